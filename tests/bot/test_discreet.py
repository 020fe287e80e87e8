"""Discreet means discreet everywhere: with discreet mode on, no message the patient or their
helper receives names the illness, a drug, a drug's letters or a symptom, in any language.

One story per language drives every flow after set-up (reminders, nudges, every answer to a
dose, /taken, /late, /progress, milestones, /stock and refill warnings, a red-flag report,
the mood check-in to its crisis answer, missed doses alerting the helper, the helper's own
commands and "I'll reach out", /pause, /resume, /settings, /helper, /help, /privacy) and
collects every reply, every button label and every outbox message to either of them.

Two places are left out, on purpose, and checked otherwise: the set-up conversation before
"Start" (the patient picks their treatment from the catalogue there, by name) and the symptom
picker the patient opens with /symptom (telling yellow eyes from orange urine is what keeps
the triage safe; those messages are marked sensitive, so discreet mode deletes them).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.dialogue.messages import Reply
from tests.bot.world import START, Person, World
from tests.helper_links import link_helper

pytestmark = pytest.mark.asyncio

DRUGS = (
    "isoniazid",
    "rifampicin",
    "rifampin",
    "rifapentine",
    "pyrazinamide",
    "ethambutol",
    "moxifloxacin",
    "bedaquiline",
    "pretomanid",
    "linezolid",
)
ABBREVIATIONS = ("HRZE", "HRZ", "HR", "INH", "RIF", "BPaLM", "3HP", "1HP", "3HR", "4R", "6H", "9H")
FORBIDDEN = {
    # Drug names are shown in English in every language, so these apply to all three.
    "any": (
        "tuberculosis",
        "TB",
        *DRUGS,
        "jaundice",
        "hepatitis",
        "fever",
        "rash",
        "vomit",
        "nausea",
        "neuropathy",
        "numbness",
        "tingling",
        "bleeding",
        "bruising",
        "dizziness",
        "palpitation",
        "fainting",
        "urine",
        "yellow",
        "lungs",
    ),
    "ko": (
        "결핵",
        "황달",
        "발열",
        "발진",
        "구토",
        "메스꺼",
        "저림",
        "출혈",
        "어지럼",
        "소변",
        "폐",
    ),
    "zh": (
        "结核",
        "痨",
        "黄疸",
        "发烧",
        "发热",
        "皮疹",
        "呕吐",
        "恶心",
        "麻木",
        "出血",
        "头晕",
        "尿",
        "肺",
    ),
}


# An invitation code ("CRR5-D3G2-V3P8-...") is random: a group like "4R19" is no word.
_CODE = re.compile(r"(?<![0-9A-Z])[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3,}(?![0-9A-Z])")


def forbidden_in(text: str, language: str) -> list[str]:
    text = _CODE.sub("<code>", text)
    found = []
    for words, flags in ((FORBIDDEN["any"], re.IGNORECASE), (ABBREVIATIONS, 0)):
        for word in words:
            # Whole words only: "HR" is not part of "HRS", nor "TB" of "TBC".
            if re.search(rf"(?<![A-Za-z0-9]){re.escape(word)}(?![A-Za-z])", text, flags):
                found.append(word)
    found += [word for word in FORBIDDEN.get(language, ()) if word in text]
    return found


def shown(replies: list[Reply]) -> list[str]:
    return [r.text for r in replies] + [c.label for r in replies for c in r.all_choices()]


class Story:
    """A discreet patient and her helper; everything either of them could read."""

    def __init__(self, world: World, patient: Person, helper: Person) -> None:
        self.world = world
        self.patient = patient
        self.helper = helper
        self.seen: list[str] = []
        self.patient_id = ""

    async def say(self, person: Person, text: str) -> list[Reply]:
        replies = await person.say(text)
        self.seen += shown(replies)
        return replies

    async def press(self, person: Person, payload: str) -> list[Reply]:
        replies = await person.press(payload)
        self.seen += shown(replies)
        return replies

    async def slot_today(self, day: int) -> str:
        slots = await self.world.store.doses.slots_between(
            self.patient_id, START + timedelta(days=day), START + timedelta(days=day + 1)
        )
        return slots[0].id

    async def outbox(self) -> list[str]:
        texts = []
        for entry in await self.world.outbox(self.patient_id):
            payload = entry.payload
            texts.append(payload.get("text", ""))
            texts += [label for row in payload.get("buttons", []) for label, _ in row]
        return texts


async def set_up(story: Story, cover: str) -> None:
    """Set-up by button, whatever the language; only what comes after "Start" is collected."""
    mina = story.patient
    await mina.say("/start")
    await mina.press("opt:yes")
    await mina.say("Mina")
    await mina.press("opt:Asia.Seoul")
    await mina.press("opt:2HRZE_4HR")
    await mina.press("opt:today")
    await mina.say("20:00")
    await mina.say("52")
    await mina.press("opt:combination")
    await mina.press(f"opt:{cover}")
    story.seen += shown(await mina.press("opt:start"))
    story.patient_id = await story.world.patient_id(mina.user)
    await link_helper(story.world.store, story.patient_id, story.helper.user, alias="Jisoo")


async def drive_every_flow(story: Story) -> None:
    world, mina, jisoo = story.world, story.patient, story.helper
    for command in ("/help", "/privacy", "/progress", "/helper", "/settings", "/late"):
        await story.say(mina, command)
        await story.say(mina, "/cancel")
    await story.say(mina, "/stock")
    await story.press(mina, "opt:bought")
    await story.say(mina, "12")  # 4 days: the refill warning comes at once
    # A week of doses: the reminder, a snooze, a nudge, each way of answering, the milestone.
    await world.travel(timedelta(hours=11))  # 20:00 on day 0
    await story.press(mina, f"snooze:{await story.slot_today(0)}.15")
    await world.travel(timedelta(minutes=45))  # the snoozed reminder and then the nudge
    await story.say(mina, "/taken")
    for day in range(1, 8):
        await world.travel(timedelta(days=1))
        slot = await story.slot_today(day)
        if day == 3:
            await story.press(mina, f"skip:{slot}")
            await story.press(mina, "checkin:later")
        else:
            await story.press(mina, f"taken:{slot}")
    await story.say(mina, "/late")
    await story.say(mina, "/progress")
    # A red flag: only the advice and who was told are collected (see the module docstring).
    await mina.say("/symptom")
    await mina.press("opt:jaundice")
    await mina.press("opt:3")
    await mina.press("opt:no")
    story.seen += shown(await mina.press("opt:skip"))
    # The mood check-in, to its crisis answer.
    await story.say(mina, "/mood")
    for answer in ("3", "3", "yes", *(["2"] * 8)):
        await story.press(mina, f"opt:{answer}")
    # Three doses unanswered: the helper is alerted, the patient told who was.
    await world.travel(timedelta(days=3, hours=6))
    for text in ("/patients", "/status", "/help"):
        await story.say(jisoo, text)
    alerts = [
        e
        for e in await world.outbox(story.patient_id)
        if e.kind == "helper_alert" and e.payload.get("buttons")
    ]
    await story.press(jisoo, alerts[-1].payload["buttons"][0][0][1])  # I'll reach out
    await story.say(mina, "/pause")
    await story.press(mina, "opt:no_medicine")
    await story.say(mina, "/resume")
    await story.say(mina, "/stock")
    story.seen += await story.outbox()


@pytest.mark.parametrize(
    ("language", "cover"), [("en", "vitamins"), ("ko", "pills"), ("zh-CN", "none")]
)
async def test_no_message_in_discreet_mode_names_the_illness_a_drug_or_a_symptom(
    world: World, language: str, cover: str
) -> None:
    story = Story(world, world.person("7001", language), world.person("8001", language))
    await set_up(story, cover)
    await drive_every_flow(story)
    lang = language[:2]
    leaks = {text: forbidden_in(text, lang) for text in story.seen if forbidden_in(text, lang)}
    assert not leaks, leaks
    # The story reached what it meant to: the reminder, the warning, the alert, the crisis.
    everything = "\n".join(story.seen)
    assert len(story.seen) > 80
    assert sum("✓" in text for text in story.seen) >= 6
    assert "Jisoo" in everything
    if lang == "en":
        for expected in (
            "time for your vitamins",
            "You have vitamins for about 4 more days",
            "One week done!",
            "has not answered the last 3 check-ins",
            "I have let Jisoo know",
            "vitamins: 3 tablets",
        ):
            assert expected in everything, expected


async def test_the_symptom_picker_left_out_above_is_deleted_in_discreet_mode(
    world: World,
) -> None:
    story = Story(world, world.person("7001"), world.person("8001"))
    await set_up(story, "vitamins")
    questions = await story.patient.say("/symptom")
    assert questions and all(reply.sensitive for reply in questions)


async def test_the_same_story_in_plain_wording_does_name_them(world: World) -> None:
    """The collector sees what a patient sees: without discreet mode the names are there."""
    story = Story(world, world.person("7001"), world.person("8001"))
    await set_up(story, "off")
    await drive_every_flow(story)
    leaks = {word for text in story.seen for word in forbidden_in(text, "en")}
    assert {"TB", "HRZE", "isoniazid"} <= leaks
