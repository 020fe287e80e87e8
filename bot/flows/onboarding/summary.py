"""The end of set-up: the summary to check, its confirmation, and the all-set reply."""

from __future__ import annotations

from datetime import datetime

from bot.dialogue.choices import OPT, Choice
from bot.dialogue.conversation import Conversation
from bot.dialogue.messages import Reply
from bot.flows.onboarding.custom import describe
from bot.flows.onboarding.earlier import earlier_line
from bot.flows.onboarding.setup import Setup, read_setup, to_enrolment
from bot.flows.onboarding.step import CHANNEL_KEYS, FLOW, Answer, discreet_only, with_cancel
from bot.flows.reminder import Wording, product_lines
from bot.i18n import Translator
from bot.texts import REGIMEN_NAMES, discreet_name
from treatment.plan import iter_slots


def ask_confirm(t: Translator, data: dict[str, object]) -> Reply:
    setup = read_setup(data)
    plan = to_enrolment(setup, setup.start)
    regimen = plan.regimen()
    hidden = discreet_only(data)
    if setup.custom is not None:
        name = t._("your own, as your prescription says")
    elif hidden:
        name = discreet_name(t, regimen)
    else:
        name = t._(REGIMEN_NAMES.get(regimen.id, regimen.name))
    lines = [
        t._("Please check:"),
        t._("Nickname: {alias}", alias=setup.alias),
        t._("Plan: {name}", name=name) if hidden else t._("Treatment: {name}", name=name),
        t._("First dose: {date}", date=t.date(setup.start)),
        t._("Dose times: {times}", times=", ".join(t.time(x) for x in setup.times)),
        t._("Time zone: {zone}", zone=setup.zone),
    ]
    if setup.weight_kg is not None:
        lines.append(t._("Weight: {kg} kg", kg=format(setup.weight_kg, "g")))
    if setup.custom is not None:
        hide = setup.discreet or hidden
        lines.extend(describe(t, setup.custom, setup.start, hide_names=hide))
    first = next(iter_slots(plan), None)
    if first is not None:
        lines.append(t._("Each dose:"))
        wording = Wording(True, setup.cover_word) if hidden else Wording()
        lines.extend(f"• {line}" for line in product_lines(t, first.products, wording))
    chosen = regimen.product_set(setup.product_set)
    if chosen is not None and not chosen.verified:
        lines.append(
            t._(
                "Separate tablets come in different strengths: please check each count against "
                "your prescription."
            )
        )
    if setup.earlier is not None:
        lines.append(earlier_line(t, setup, setup.earlier, data))
    if hidden:
        lines.append(
            t._("Name in my texts: “{word}”", word=setup.cover_word)
            if setup.cover_word
            else t._("Name in my texts: none")
        )
    elif setup.discreet:
        lines.append(
            t._("Discreet mode: on, medicine called “{word}”", word=setup.cover_word)
            if setup.cover_word
            else t._("Discreet mode: on")
        )
    else:
        lines.append(t._("Discreet mode: off"))
    rows = [(Choice(t._("Start"), OPT, "start"), Choice(t._("Start over"), OPT, "restart"))]
    return Reply("\n".join(lines), with_cancel(t, rows), sensitive=True)


def accept_confirm(c: Conversation, a: Answer, now: datetime) -> Conversation | Setup | str | None:
    if a.option == "start":
        return read_setup(c.data)
    if a.option == "restart":
        kept = {key: c.data[key] for key in CHANNEL_KEYS if key in c.data}
        data = {"language": c.data["language"], "consent": True, **kept}
        return Conversation(FLOW, "alias", data, now)
    return None


def done(t: Translator, setup: Setup, *, numbered: bool = False) -> Reply:
    """The all-set reply; `numbered`: where the patient answers by number, not by button
    (SMS), it says so."""
    if numbered:
        return Reply(
            t._(
                "All set, {alias}. I will text you at {times}: reply 1 when you have taken "
                "your tablets. /progress shows how far you are, /help lists what you can text.",
                alias=setup.alias,
                times=", ".join(t.time(x) for x in setup.times),
            )
        )
    return Reply(
        t._(
            "All set, {alias}. I will remind you at {times}. Press Taken when you have taken "
            "your dose. /progress shows how far you are, /help lists everything I can do.",
            alias=setup.alias,
            times=", ".join(t.time(x) for x in setup.times),
        )
    )
