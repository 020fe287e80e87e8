"""Helpers through the real dialogue, store and engine: linking with consent on both sides,
alerts passed from helper to helper, helper commands, and the patient's controls."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.check_phrase import WORDS
from bot.i18n import translator
from scheduler.alerts import HelperPrefs
from scheduler.dispatcher import Unreachable
from scheduler.outbox import FailureReason, Kind
from storage.errors import NotFound
from storage.models import HelperInviteRow, HelperRow
from storage.records import HelperState, IncidentState, OutboxEntry
from tests.bot.world import START, Person, World, onboard
from tests.helper_links import link_helper

pytestmark = pytest.mark.asyncio

CODE = re.compile(r"/join ([0-9A-Z]{4}(?:-[0-9A-Z]{2,4}){6})")
# Mina's 20:00 Seoul dose is 11:00 UTC; its window closes six hours later.
DUE = START + timedelta(hours=11)
CLOSE = DUE + timedelta(hours=6)


async def invite(mina: Person, name: str = "Jisoo", shown: str | None = None) -> str:
    """Mina invites a helper through /helper; the code she is given."""
    await mina.say("/helper")
    if "Invite a helper" in " ".join(c.label for r in mina.last for c in r.all_choices()):
        await mina.choose("Invite a helper")
    assert "What is their name?" in mina.text(), mina.text()
    await mina.say(name)
    if shown is None:
        await mina.press("opt:alias")  # the button with the patient's own nickname
    else:
        await mina.say(shown)
    found = CODE.search(mina.text())
    assert found, mina.text()
    return found.group(1)


async def outbox_to(world: World, patient_id: str, recipient: str) -> list[OutboxEntry]:
    return [e for e in await world.outbox(patient_id) if e.recipient == recipient]


async def alerts_to(world: World, patient_id: str, helper_id: str) -> list[OutboxEntry]:
    """The helper alerts queued for one helper of the patient."""
    return [
        e
        for e in await outbox_to(world, patient_id, f"helper:{helper_id}")
        if e.kind == Kind.HELPER_ALERT.value
    ]


async def link(world: World, mina: Person, helper: Person, name: str = "Jisoo") -> str:
    """The whole linking conversation; the helper's id. A minute passes first, so helpers
    linked one after another have distinct creation instants (their alert order)."""
    world.clock.advance(timedelta(minutes=1))
    patient_id = await world.patient_id(mina.user)
    code = await invite(mina, name)
    await helper.say(f"/join {code}")
    assert "treatment helper" in helper.text()
    await helper.choose("I accept")
    (ask,) = [
        e
        for e in await outbox_to(world, patient_id, "patient")
        if f"invitation for {name}." in e.payload.get("text", "")
    ]
    buttons = [b for row in ask.payload["buttons"] for b in row]
    confirm = next(data for label, data in buttons if label == "The words match: link them")
    await mina.press(confirm)
    assert f"{name} is now your helper" in mina.text()
    (role,) = [
        h
        for h in await world.store.helpers.find_by_address("telegram", helper.user)
        if h.patient_id == patient_id
    ]
    return role.id


async def test_linking_needs_the_helper_to_accept_and_the_patient_to_confirm(
    world: World,
) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    jisoo = world.person("8001")
    code = await invite(mina, "Jisoo", shown="Big sister")
    assert "It works once, for 24 hours" in mina.text()
    (invited,) = await world.store.helpers.for_patient(patient_id)
    assert invited.state is HelperState.INVITED and invited.alias == "Jisoo"

    await jisoo.say(f"/join {code.lower()}")
    assert "Big sister asks you to be their treatment helper" in jisoo.text()
    await jisoo.choose("I accept")
    assert "will now check that it is you" in jisoo.text()
    (accepted,) = await world.store.helpers.for_patient(patient_id)
    assert accepted.state is HelperState.ACCEPTED
    # Nothing about Mina reaches Jisoo before Mina confirms.
    assert await world.store.helpers.find_by_address("telegram", "8001") == []
    assert await outbox_to(world, patient_id, f"helper:{accepted.id}") == []
    (ask,) = [e for e in await outbox_to(world, patient_id, "patient") if e.kind == "notice"]
    assert "invitation for Jisoo" in ask.payload["text"]

    await mina.press(f"hok:{accepted.id}")
    assert "Jisoo is now your helper" in mina.text()
    (active,) = await world.store.helpers.find_by_address("telegram", "8001")
    assert active.patient_id == patient_id and HelperPrefs.of(active).shown_as == "Big sister"
    assert (await world.store.patients.get(patient_id)).consent.helper_alerts
    (told,) = await outbox_to(world, patient_id, f"helper:{active.id}")
    assert "Big sister confirmed: you are now their helper" in told.payload["text"]
    # The code was single use.
    other = world.person("8002")
    await other.say(f"/join {code}")
    assert "does not work" in other.text()


async def test_a_deep_link_opens_the_invitation_like_the_typed_code(world: World) -> None:
    mina = world.person("7001")
    await onboard(mina)
    code = await invite(mina)
    jisoo = world.person("8001")
    await jisoo.say("/start join-" + code.replace("-", ""))
    assert "Mina asks you to be their treatment helper" in jisoo.text()


async def test_an_unused_invitation_keeps_only_its_day_once_the_sweep_finds_it_expired(
    world: World,
) -> None:
    """Its code works for a day; a day after that, the engine's sweep leaves only the day it
    was made, and the code still does not work."""
    mina = world.person("7001")
    patient_id = await onboard(mina)
    code = await invite(mina)
    made = world.clock.now()

    async def instants() -> tuple[datetime, datetime]:
        async with world.store.engine.connect() as connection:
            made_at, expires_at = (
                await connection.execute(
                    select(HelperInviteRow.created_at, HelperInviteRow.expires_at).where(
                        HelperInviteRow.patient_id == patient_id
                    )
                )
            ).one()
            return made_at, expires_at

    world.clock.advance(timedelta(hours=47))
    await world.engine.sweep()
    assert (await instants())[0] == made  # expired 23 hours ago: still exact
    world.clock.advance(timedelta(hours=2))
    await world.engine.sweep()
    day = made.replace(hour=0, minute=0, second=0, microsecond=0)
    assert await instants() == (day, day)
    jisoo = world.person("8001")
    await jisoo.say(f"/join {code}")
    assert "does not work" in jisoo.text()


async def test_five_tries_per_hour_then_even_the_right_code_waits(world: World) -> None:
    mina = world.person("7001")
    await onboard(mina)
    code = await invite(mina)
    guesser = world.person("8009")
    for n in range(5):
        await guesser.say(f"/join {'A' * 27}{n}")
        assert "does not work" in guesser.text()
    await guesser.say(f"/join {code}")
    assert "Too many tries" in guesser.text()
    world.clock.advance(timedelta(hours=1, seconds=1))
    await guesser.say(f"/join {code}")
    assert "treatment helper" in guesser.text()


async def test_only_the_account_that_opened_the_invitation_can_accept_it(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    code = await invite(mina)
    jisoo, eve = world.person("8001"), world.person("8666")
    await jisoo.say(f"/join {code}")
    accept = next(c for r in jisoo.last for c in r.all_choices() if c.label == "I accept")
    await eve.press(accept.payload)  # a copied button, from another account
    assert "no longer open" in eve.text()
    (helper,) = await world.store.helpers.for_patient(patient_id)
    assert helper.state is HelperState.INVITED
    await mina.say(f"/join {code}")  # her own code
    assert "your own invitation" in mina.text()


async def test_a_helper_who_says_no_thank_you_leaves_no_row_behind(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    code = await invite(mina, "Jisoo")
    jisoo, eve = world.person("8001"), world.person("8666")
    await jisoo.say(f"/join {code}")
    no = next(c for r in jisoo.last for c in r.all_choices() if c.label == "No, thank you")
    await eve.press(no.payload)  # a copied button cannot decline for the one who opened it
    assert "no longer open" in eve.text()
    assert len(await world.store.helpers.for_patient(patient_id)) == 1
    await jisoo.press(no.payload)
    assert "Nothing was linked" in jisoo.text()
    assert await world.store.helpers.for_patient(patient_id) == []
    async with world.store.engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(HelperRow)) == 0
        assert await connection.scalar(select(func.count()).select_from(HelperInviteRow)) == 0
    (told,) = [
        e
        for e in await outbox_to(world, patient_id, "patient")
        if "said no to your invitation" in e.payload.get("text", "")
    ]
    assert "Jisoo" in told.payload["text"]
    await jisoo.press(no.payload)  # again: nothing left to decline
    assert "no longer open" in jisoo.text()
    await jisoo.say(f"/join {code}")
    assert "does not work" in jisoo.text()


def shown_words(text: str) -> list[str]:
    """The check phrase in a message: the line of words joined by middle dots."""
    (line,) = [line for line in text.splitlines() if " · " in line]
    return line.split(" · ")


async def question_to(world: World, patient_id: str, name: str = "Jisoo") -> OutboxEntry:
    (ask,) = [
        e
        for e in await outbox_to(world, patient_id, "patient")
        if f"invitation for {name}." in e.payload.get("text", "")
    ]
    return ask


async def test_the_patient_compares_words_only_the_accepting_account_saw(world: World) -> None:
    """The words, not the account's name (which an impostor copies: see the Telegram test
    `test_an_impostor_with_a_copied_display_name_is_not_shown_as_the_helper`), are what the
    patient checks by voice."""
    mina = world.person("7001")
    patient_id = await onboard(mina)
    code = await invite(mina)
    impostor = world.person("8666")
    await impostor.say(f"/join {code}")
    await impostor.choose("I accept")
    words = shown_words(impostor.text())
    assert len(words) == 3 and len(set(words)) == 3
    ask = await question_to(world, patient_id)
    assert shown_words(ask.payload["text"]) == words
    assert "call or meet them" in ask.payload["text"]
    assert "Telegram name" not in ask.payload["text"]
    labels = [label for row in ask.payload["buttons"] for label, _ in row]
    assert labels == ["The words match: link them", "No, that is not them"]
    # Another acceptance draws other words: they cannot be known before accepting.
    others = []
    for n in range(4):
        again = world.person("7002" + str(n))
        await onboard(again)
        second = await invite(again)
        helper = world.person("8100" + str(n))
        await helper.say(f"/join {second}")
        await helper.choose("I accept")
        others.append(tuple(shown_words(helper.text())))
    assert len(set(others) | {tuple(words)}) > 1


async def test_the_check_words_are_the_same_things_in_each_sides_language(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    code = await invite(mina)
    jisoo = world.person("8001", "zh-hans")
    await jisoo.say(f"/join {code}")
    await jisoo.choose("我接受")
    helper_words = shown_words(jisoo.text())
    ask = await question_to(world, patient_id)
    patient_words = shown_words(ask.payload["text"])
    zh, en = translator("zh_Hans"), translator("en")
    picks = [next(i for i, w in enumerate(WORDS) if zh._(w) == word) for word in helper_words]
    assert patient_words == [en._(WORDS[i]) for i in picks]


async def test_a_second_account_opening_the_invitation_voids_it_and_the_patient_is_told(
    world: World,
) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    code = await invite(mina)
    jisoo, eve = world.person("8001"), world.person("8666")
    await jisoo.say(f"/join {code}")
    assert "treatment helper" in jisoo.text()
    await eve.say(f"/join {code}")
    assert "Another account had already opened this invitation" in eve.text()
    assert "Mina" not in eve.text()
    await jisoo.choose("I accept")
    assert "no longer open" in jisoo.text()
    (told,) = [
        e
        for e in await outbox_to(world, patient_id, "patient")
        if "Two different accounts" in e.payload.get("text", "")
    ]
    assert "invitation for Jisoo" in told.payload["text"]
    (helper,) = await world.store.helpers.for_patient(patient_id)
    assert helper.state is HelperState.INVITED and helper.address is None
    # A fresh invitation, sent privately, links the real Jisoo.
    await mina.say("/helper")
    await mina.choose("Jisoo")
    await mina.choose("New invitation code")
    fresh = CODE.search(mina.text())
    assert fresh, mina.text()
    await jisoo.say(f"/join {fresh.group(1)}")
    await jisoo.choose("I accept")
    assert "will now check that it is you" in jisoo.text()


async def test_a_second_opener_after_an_impostor_accepted_undoes_the_acceptance(
    world: World,
) -> None:
    """The impostor was first and accepted; the real helper opening the code afterwards voids
    it, so the patient's pending question goes stale and the impostor is told it is over."""
    mina = world.person("7001")
    patient_id = await onboard(mina)
    code = await invite(mina)
    eve, jisoo = world.person("8666"), world.person("8001")
    await eve.say(f"/join {code}")
    await eve.choose("I accept")
    ask = await question_to(world, patient_id)
    await jisoo.say(f"/join {code}")
    assert "Another account had already opened" in jisoo.text()
    (bye,) = await outbox_to(world, patient_id, "direct")
    assert bye.to is not None and bye.to.address == "8666"
    assert "was cancelled because another account opened it too" in bye.payload["text"]
    confirm = next(
        data for row in ask.payload["buttons"] for label, data in row if "match" in label
    )
    await mina.press(confirm)
    assert "no longer waiting" in mina.text()
    assert await world.store.helpers.find_by_address("telegram", "8666") == []
    await eve.say("/patients")
    assert "not helping anyone" in eve.text()


async def test_a_patient_who_does_not_recognise_the_account_cancels_the_link(
    world: World,
) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    code = await invite(mina)
    stranger = world.person("8666")
    await stranger.say(f"/join {code}")
    await stranger.choose("I accept")
    (helper,) = await world.store.helpers.for_patient(patient_id)
    await mina.press(f"hnot:{helper.id}")
    assert "not linked" in mina.text()
    with pytest.raises(NotFound):  # the declined helper's row goes at once
        await world.store.helpers.get(patient_id, helper.id)
    (bye,) = await outbox_to(world, patient_id, "direct")
    assert "did not confirm" in bye.payload["text"]
    assert bye.to is not None and bye.to.address == "8666"
    await stranger.say("/patients")
    assert "not helping anyone" in stranger.text()


async def test_at_most_three_helpers(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    for name in ("Ana", "Bo", "Chen"):
        await invite(mina, name)
    await mina.say("/helper")
    labels = [c.label for r in mina.last for c in r.all_choices()]
    assert "Invite a helper" not in labels and "the most I allow" in mina.text()
    assert len(await world.store.helpers.for_patient(patient_id)) == 3


async def test_a_missed_dose_alerts_one_helper_then_escalates_until_one_takes_it_on(
    world: World,
) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    ana, bo, chen = world.person("8001"), world.person("8002"), world.person("8003")
    ids = [
        await link(world, mina, helper, name)
        for helper, name in ((ana, "Ana"), (bo, "Bo"), (chen, "Chen"))
    ]
    await world.travel(CLOSE - world.clock.now())
    alerts = [e for e in await world.outbox(patient_id) if e.kind == Kind.HELPER_ALERT.value]
    assert [a.recipient for a in alerts] == [f"helper:{ids[0]}"]
    assert "check-in from 8:00" in alerts[0].payload["text"].replace("\u202f", " ")  # discreet

    await world.travel(timedelta(hours=1))  # the default escalation delay
    alerts = [e for e in await world.outbox(patient_id) if e.kind == Kind.HELPER_ALERT.value]
    assert [a.recipient for a in alerts] == [f"helper:{ids[0]}", f"helper:{ids[1]}"]

    buttons = {label: data for row in alerts[1].payload["buttons"] for label, data in row}
    await bo.press(buttons["I'll reach out"])
    assert "Thank you for reaching out to Mina" in bo.text()
    (incident,) = await world.store.incidents.for_patient(patient_id)
    assert incident.state is IncidentState.HANDLED and incident.next_at is None
    await ana.press(buttons["I'll reach out"])  # Ana was told too: she hears it is handled
    assert "Another helper is already reaching out" in ana.text()
    notes = await outbox_to(world, patient_id, f"helper:{ids[0]}")
    assert any("Another helper is reaching out to Mina" in n.payload["text"] for n in notes)

    await world.travel(timedelta(hours=5))
    to_chen = [e for e in await outbox_to(world, patient_id, f"helper:{ids[2]}")]
    assert [e.kind for e in to_chen] == ["notice"]  # only "you are linked": never the alert
    await chen.press(buttons["I'll reach out"])  # not told: a forged press
    assert "not something I can show you" in chen.text()


async def test_cant_reach_passes_the_alert_on_at_once(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    ana, bo = world.person("8001"), world.person("8002")
    first = await link(world, mina, ana, "Ana")
    second = await link(world, mina, bo, "Bo")
    await world.travel(CLOSE - world.clock.now())
    alerts = await alerts_to(world, patient_id, first)
    buttons = {label: data for row in alerts[0].payload["buttons"] for label, data in row}
    await ana.press(buttons["Can't reach them"])
    assert "passed this on" in ana.text()
    to_bo = await alerts_to(world, patient_id, second)
    assert len(to_bo) == 1
    await bo.press(buttons["Can't reach them"])
    assert "no other helper" in bo.text()


async def test_a_helper_of_someone_else_cannot_touch_this_patients_alert(world: World) -> None:
    mina, wei = world.person("7001"), world.person("7002")
    mina_id = await onboard(mina)
    await onboard(wei)
    ana, zoe = world.person("8001"), world.person("8005")
    await link(world, mina, ana, "Ana")
    await link(world, wei, zoe, "Zoe")
    await world.travel(CLOSE - world.clock.now())
    (incident, *_) = await world.store.incidents.for_patient(mina_id)
    for verb in ("hack", "hpass", "hstat", "hleave"):
        await zoe.press(f"{verb}:{incident.id}")
        assert "not something I can show you" in zoe.text()
    assert (await world.store.incidents.get(mina_id, incident.id)).version == incident.version
    await zoe.say("/patients")  # Wei, whom Zoe helps, only
    assert zoe.text().count("Mina") == 1
    assert len(await world.store.helpers.find_by_address("telegram", "8005")) == 1


async def test_removing_a_helper_cancels_what_was_queued_and_says_goodbye(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    ana = world.person("8001")
    helper_id = await link(world, mina, ana, "Ana")
    await world.travel(CLOSE - world.clock.now())
    queued = await alerts_to(world, patient_id, helper_id)
    assert len(queued) == 1 and queued[0].state.value == "queued"
    await mina.say("/helper")
    await mina.choose("Ana")
    await mina.choose("Remove Ana")
    await mina.choose("Yes, remove")
    assert "Ana is no longer your helper" in mina.text()
    assert await outbox_to(world, patient_id, f"helper:{helper_id}") == []
    (bye,) = await outbox_to(world, patient_id, "direct")
    assert "removed you as their helper" in bye.payload["text"]
    assert "dose" not in bye.payload["text"] and "TB" not in bye.payload["text"]
    await ana.say("/patients")
    assert "not helping anyone" in ana.text()
    await world.travel(timedelta(days=1, hours=6))
    assert await outbox_to(world, patient_id, f"helper:{helper_id}") == []


async def test_forget_takes_the_helpers_and_their_queued_alerts_with_it(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    ana = world.person("8001")
    await link(world, mina, ana, "Ana")
    await world.travel(CLOSE - world.clock.now())
    assert await world.store.incidents.for_patient(patient_id)
    await mina.say("/forget")
    await mina.choose("Yes, erase")
    await mina.choose("Erase everything now")
    with pytest.raises(NotFound):
        await world.store.outbox.for_patient(patient_id)
    assert await world.store.outbox.next_due(world.clock.now()) is None  # nothing queued at all
    await ana.say("/patients")
    assert "not helping anyone" in ana.text()


async def test_helper_commands_show_today_and_the_week_and_leave_tells_the_patient(
    world: World,
) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    ana = world.person("8001")
    await link(world, mina, ana, "Ana")
    await world.travel(CLOSE - world.clock.now())  # day 1 missed
    await world.travel(timedelta(hours=18))  # day 2: 11:00 UTC, the reminder is out
    slot = (
        await world.store.doses.slots_between(
            patient_id, DUE + timedelta(days=1), DUE + timedelta(days=1, seconds=1)
        )
    )[0]
    await mina.press(f"taken:{slot.id}")
    await ana.say("/patients")
    assert "Mina: ✅" in ana.text()
    await ana.say("/status mina")
    assert "Mina: 1 of 2 check-ins answered." in ana.text()
    assert "✅" in ana.text() and "❌" in ana.text()
    await ana.say("/leave")
    await ana.choose("Stop helping Mina")
    assert "no more messages about Mina" in ana.text()
    (left,) = [
        e
        for e in await outbox_to(world, patient_id, "patient")
        if "stopped being your helper" in e.payload.get("text", "")
    ]
    assert "Ana stopped being your helper" in left.payload["text"]
    await ana.say("/patients")
    assert "not helping anyone" in ana.text()


async def test_what_each_helper_is_told_is_the_patients_choice(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    ana = world.person("8001")
    helper_id = await link(world, mina, ana, "Ana")
    await mina.say("/helper")
    await mina.choose("Ana")
    await mina.choose("A dose still unanswered")  # off
    assert "⬜ A dose still unanswered" in " ".join(
        c.label for r in mina.last for c in r.all_choices()
    )
    await world.travel(CLOSE - world.clock.now() + timedelta(days=1))
    assert await alerts_to(world, patient_id, helper_id) == []
    await world.travel(timedelta(days=1))  # the third missed dose in a row
    alerts = await alerts_to(world, patient_id, helper_id)
    assert len(alerts) == 1 and "the last 3 check-ins" in alerts[0].payload["text"], alerts
    # The patient knows who was told, once, in words that name nothing medical.
    told = [
        e.payload["text"]
        for e in await world.outbox(patient_id)
        if e.recipient == "patient" and "let Ana know" in e.payload["text"]
    ]
    assert told == [
        "Some doses have not been confirmed lately, so I have let Ana know. They may get in "
        "touch to see how you are."
    ]


async def test_paused_alerts_tell_nobody(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    ana = world.person("8001")
    await link(world, mina, ana, "Ana")
    await mina.say("/helper")
    await mina.choose("Pause all alerts")
    assert "paused" in mina.text()
    await world.travel(CLOSE - world.clock.now() + timedelta(days=3))
    assert [e for e in await world.outbox(patient_id) if e.kind == "helper_alert"] == []
    assert await world.store.incidents.for_patient(patient_id) == []


async def test_symptom_names_reach_a_helper_only_when_allowed_and_not_in_discreet_mode(
    world: World,
) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    patient = await world.store.patients.get(patient_id)
    await world.store.patients.update(replace(patient, discreet=False))
    ana = world.person("8001")
    helper = await link_helper(world.store, patient_id, "8001", alias="Ana", details=True)

    async def red_flag() -> str:
        await mina.say("/symptom")
        await mina.choose("Yellow skin")
        await mina.choose("Mild")
        await mina.choose("No")
        await mina.choose("Skip")
        alerts = await alerts_to(world, patient_id, helper.id)
        return str(alerts[-1].payload["text"])

    assert "They reported: Yellow skin or yellow eyes." in await red_flag()
    patient = await world.store.patients.get(patient_id)
    await world.store.patients.update(replace(patient, discreet=True))
    world.clock.advance(timedelta(minutes=5))
    text = await red_flag()
    assert "needs care today" in text and "reported" not in text and ana.user


async def test_a_weekly_summary_comes_only_to_a_helper_who_gets_one(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    ana = world.person("8001")
    helper_id = await link(world, mina, ana, "Ana")
    await mina.say("/helper")
    await mina.choose("Ana")
    await mina.choose("A weekly summary")
    await world.travel(timedelta(days=7, minutes=1))
    summaries = [
        e for e in await outbox_to(world, patient_id, f"helper:{helper_id}") if e.kind == "summary"
    ]
    assert (
        len(summaries) == 1 and "Mina: 0 of 7 check-ins answered." in summaries[0].payload["text"]
    )


async def test_a_patient_who_blocks_the_bot_or_goes_silent_is_an_alert(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    ana = world.person("8001")
    helper = await link_helper(
        world.store, patient_id, "8001", alias="Ana", unanswered=False, missed_run=0
    )
    event = Unreachable(f"{patient_id}/patient", FailureReason.BLOCKED, Kind.REMINDER, "x", START)
    await world.engine.on_unreachable(event)
    await world.engine.on_unreachable(event)  # every failed message says so: one alert
    await world.travel(timedelta(days=3, hours=18))
    alerts = [e.payload["text"] for e in await alerts_to(world, patient_id, helper.id)]
    assert len(alerts) == 2 and ana.user, alerts
    assert "no longer reach Mina" in alerts[0]
    assert "has not answered me for 3 days" in alerts[1]


async def test_one_helper_supports_many_patients_each_kept_apart(world: World) -> None:
    nurse = world.person("8100")
    patients = []
    for n, name in enumerate(("Mina", "Wei", "Ana")):
        person = world.person(f"71{n:02d}")
        patient_id = await onboard(person)
        patient = await world.store.patients.get(patient_id)
        await world.store.patients.update(replace(patient, alias=name))
        await link(world, person, nurse, "Nurse Kim")
        patients.append((person, patient_id))
    await nurse.say("/patients")
    assert all(f"{name}:" in nurse.text() for name in ("Mina", "Wei", "Ana"))
    await nurse.say("/status")  # several: asks whose
    choices = [c for r in nurse.last for c in r.all_choices()]
    assert sorted(c.label for c in choices) == ["Ana", "Mina", "Wei"]
    await nurse.press(next(c.payload for c in choices if c.label == "Wei"))
    assert nurse.text().startswith("Wei:")
    await nurse.say("/leave")
    await nurse.choose("Stop helping Wei")
    roles = await world.store.helpers.find_by_address("telegram", "8100")
    assert {r.patient_id for r in roles} == {patients[0][1], patients[2][1]}


async def test_a_korean_helper_is_written_to_in_korean(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    jun = world.person("8001", language="ko")
    code = await invite(mina, "Jun")
    await jun.say(f"/join {code}")
    assert "Mina" in jun.text() and re.search(r"[\uac00-\ud7a3]", jun.text())
    await jun.press(next(c.payload for r in jun.last for c in r.all_choices()))  # accept
    (helper,) = await world.store.helpers.for_patient(patient_id)
    await mina.press(f"hok:{helper.id}")
    await world.travel(CLOSE - world.clock.now())
    (alert,) = await alerts_to(world, patient_id, helper.id)
    assert re.search(r"[\uac00-\ud7a3]", alert.payload["text"])
    assert "Mina" in alert.payload["text"]


async def test_a_helper_who_blocked_the_bot_passes_the_alert_on_at_once(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    ana, bo = world.person("8001"), world.person("8002")
    first = await link(world, mina, ana, "Ana")
    second = await link(world, mina, bo, "Bo")
    await world.travel(CLOSE - world.clock.now())
    event = Unreachable(
        f"{patient_id}/helper:{first}", FailureReason.BLOCKED, Kind.HELPER_ALERT, "x", CLOSE
    )
    await world.engine.on_unreachable(event)
    to_bo = await alerts_to(world, patient_id, second)
    assert len(to_bo) == 1  # at once, not an hour later


async def test_pausing_alerts_also_stops_an_alert_already_on_its_way(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    ana, bo = world.person("8001"), world.person("8002")
    await link(world, mina, ana, "Ana")
    second = await link(world, mina, bo, "Bo")
    await world.travel(CLOSE - world.clock.now())  # Ana is told
    await mina.say("/helper")
    await mina.choose("Pause all alerts")
    await world.travel(timedelta(hours=3))  # past the escalation delay
    assert await alerts_to(world, patient_id, second) == []
