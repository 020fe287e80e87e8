"""After a real session, a stolen database file, its WAL and a backup tell no dose's fate, no
symptom or alert kind and no local dose time, besides no name, account id or free text.

The session goes through the real dialogue and engine: enrolment at 20:00 in Seoul, a dose
taken, one left unanswered (recorded missed, the helper told), one reported taken late, a
red-flag symptom (the helper alerted) and a mild one (a follow-up timer), a mood check-in.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from bot.dialogue.messages import Reply
from scheduler.alerts import AlertKind
from scheduler.clock import FakeClock
from scheduler.outbox import Kind
from storage.backup import backup_sqlite
from storage.keyring import Keyring
from storage.models import Base
from storage.records import DoseOutcome, ReportedVia, SlotState
from storage.store import Store
from tests.bot.world import START, Person, World, make_world, onboard
from tests.conftest import TestDatabase
from tests.helper_links import link_helper
from tests.storage.scan import hits, sqlite_bytes

PATIENT_ACCOUNT = "5550193847"
HELPER_ACCOUNT = "5550274615"
HELPER_NAME = "Seolhyun"
FREE_TEXT = "ZQXSINCEMONDAY"

# Every word that says what became of a dose, what a message or alert was, what was felt.
OUTCOME_WORDS = [
    *(state.value for state in SlotState if state not in (SlotState.PENDING,)),
    *(outcome.value for outcome in DoseOutcome),
    *(via.value for via in ReportedVia if via is ReportedVia.NO_REPLY),
    "pending",
    "late",
    "not_recorded",
]
KIND_WORDS = [
    *(kind.value for kind in Kind),
    *(kind.value for kind in AlertKind),
    "remind",
    "jaundice",
    "mild_nausea",
    "reassure",
    "soon",
    "phq2",
    "phq9",
]
# 20:00 as a local time: not the minutes and seconds of a UTC instant such as 11:20:00.
LOCAL_DOSE_TIME = re.compile(rb"(?<![\d:])20:00")


async def _slot_of_day(world: World, patient_id: str, day: int) -> str:
    start = START + timedelta(days=day)
    (slot,) = await world.store.doses.slots_between(patient_id, start, start + timedelta(days=1))
    return slot.id


async def _session(world: World, mina: Person) -> str:
    patient_id = await onboard(mina)
    await link_helper(world.store, patient_id, HELPER_ACCOUNT, alias=HELPER_NAME)
    await world.travel(timedelta(hours=11))  # 20:00 in Seoul: the first reminder
    await mina.press(f"taken:{await _slot_of_day(world, patient_id, 0)}")
    await world.travel(timedelta(days=1, hours=7))  # day 1's window closed unanswered
    missed = await world.store.doses.slot(patient_id, await _slot_of_day(world, patient_id, 1))
    assert missed.state is SlotState.MISSED
    await world.travel(timedelta(hours=17))  # day 2, 20:00: answered the next morning
    await world.travel(timedelta(hours=7))
    replies: list[Reply] = await mina.press(f"late:{await _slot_of_day(world, patient_id, 2)}")
    assert "late" in replies[0].text
    await mina.say("/symptom")
    for answer in ("Yellow skin", "Mild", "No", "Skip"):
        await mina.choose(answer)
    await mina.say("/symptom")
    for answer in ("Mild nausea", "Mild", "No"):
        await mina.choose(answer)
    await mina.say(FREE_TEXT)
    await mina.say("/mood")
    for answer in ("Not at all", "Not at all"):
        await mina.choose(answer)
    reports = {r.level: r for r in await world.store.side_effects.for_patient(patient_id)}
    assert sorted(reports) == ["red_flag", "soon"]
    assert reports["soon"].follow_up_at is not None and reports["soon"].free_text == FREE_TEXT
    assert len(await world.store.mood.for_patient(patient_id)) == 1
    kinds = [e.kind for e in await world.outbox(patient_id)]
    assert kinds.count(Kind.HELPER_ALERT.value) >= 2  # the unanswered dose, the red flag
    return patient_id


async def test_a_session_leaves_no_fate_kind_or_local_time_readable(
    sqlite_database: TestDatabase, keyring: Keyring, tmp_path: Path
) -> None:
    assert sqlite_database.path is not None
    clock = FakeClock(START)
    store = await Store.open(sqlite_database.url, keyring, clock=clock.now)
    try:
        world = make_world(store, clock)
        mina = world.person(PATIENT_ACCOUNT)
        patient_id = await _session(world, mina)
        copy = tmp_path / "backup.sqlite3"
        backup_sqlite(sqlite_database.path, copy)
        live = sqlite_bytes(sqlite_database.path)  # the file, its WAL and shared memory
    finally:
        await store.close()

    for raw in (without_schema_names(live), without_schema_names(sqlite_bytes(copy))):
        # Control: the plaintext the scheduler needs is there, so the scan sees the rows.
        assert hits(raw, [patient_id, "planned", "closed"]) == [patient_id, "planned", "closed"]
        assert hits(raw, ["Mina", HELPER_NAME, PATIENT_ACCOUNT, HELPER_ACCOUNT, FREE_TEXT]) == []
        words = [*OUTCOME_WORDS, *KIND_WORDS]
        assert hits(raw, words + [word.capitalize() for word in words]) == []
        assert LOCAL_DOSE_TIME.search(raw) is None


def without_schema_names(raw: bytes) -> bytes:
    """`raw` without the table, index and column names of the schema ("chat_cleanups",
    "ix_chat_cleanups_next_try_at"): every database has them, so they tell nothing about a
    patient, and a name holding a scanned word would hide what the scan is for. Only whole
    names that hold such a word go, so a stored value "cleanup" is still found."""
    names = set()
    for table in Base.metadata.tables.values():
        names.add(table.name)
        names.update(column.name for column in table.columns)
        names.update(str(index.name) for index in table.indexes)
    words = [*OUTCOME_WORDS, *KIND_WORDS]
    holding = [name for name in names if any(w in name.lower() and w != name for w in words)]
    for name in sorted(holding, key=len, reverse=True):
        raw = raw.replace(name.encode(), b"")
    return raw
