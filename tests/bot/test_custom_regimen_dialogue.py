"""A custom regimen end to end: set-up through the real dialogue and store, the reminders it
makes, and nothing readable in the database that names a drug or drug-resistant TB."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.bot.world import World
from tests.conftest import TestDatabase
from treatment.drugs import load_drugs

pytestmark = pytest.mark.asyncio


def number(drug_id: str) -> str:
    return str(1 + [d.id for d in load_drugs().pickable()].index(drug_id))


async def test_a_custom_regimen_is_set_up_reminded_and_stored_sealed(
    world: World, database: TestDatabase
) -> None:
    mina = world.person("7101")
    await mina.say("/start")
    await mina.choose("I agree")
    await mina.say("Mina")
    await mina.choose("Seoul")
    await mina.choose("My treatment is not in this list")
    await mina.choose("Yes, I will pick them")
    assert mina.offered("bedaquiline (Bdq)")
    await mina.say(f"{number('Bdq')}, {number('Lzd')}")
    await mina.say("2")
    await mina.say("4 x 14")
    await mina.choose("3 times a week")
    await mina.say("1")
    await mina.choose("Every day")
    await mina.say("24 weeks")
    assert "Part 1: every day, for 24 weeks" in mina.text()
    assert await world.store.enrolments.active(await world.patient_id("7101")) == []
    await mina.choose("Yes, that is right")
    await mina.choose("Today")
    await mina.say("20:00")
    await mina.choose("Discreet, call it “vitamins”")
    await mina.choose("Start")
    assert "All set" in mina.text(), mina.text()
    patient_id = await world.patient_id("7101")
    (record,) = await world.store.enrolments.active(patient_id)
    plan = record.enrolment
    assert plan.regimen_id == "custom"
    regimen = plan.regimen()
    assert [d.name for d in regimen.phases[0].drugs] == ["bedaquiline", "linezolid"]
    await world.travel(timedelta(hours=11))  # 20:00 in Seoul
    reminders = [e for e in await world.outbox(patient_id) if e.kind == "reminder"]
    assert reminders
    text_sent = reminders[0].payload["text"].casefold()
    assert "bedaquiline" not in text_sent and "linezolid" not in text_sent  # discreet
    await _no_plaintext(database, ("bedaquiline", "linezolid", "Bdq", "custom", "BPaL"))


async def _no_plaintext(database: TestDatabase, words: tuple[str, ...]) -> None:
    """Every text and binary column of every table, read raw: none holds these words."""
    engine = create_async_engine(database.url)
    try:
        async with engine.connect() as conn:
            if database.engine == "sqlite":
                rows = await conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
            else:
                rows = await conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                )
            tables = [r[0] for r in rows]
            found = []
            for table in tables:
                for row in await conn.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608  # nosec B608
                    for value in row:
                        raw = value if isinstance(value, bytes | memoryview) else str(value)
                        blob = bytes(raw) if not isinstance(raw, str) else raw.encode()
                        found.extend(w for w in words if w.encode() in blob)
            assert not found, found
    finally:
        await engine.dispose()
