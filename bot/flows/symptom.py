"""Reporting a side effect: which symptom, how bad, optional words, then clear advice.

The triage itself is `treatment.triage`; this flow only asks and explains. A red flag ends
with the plain instruction to stop the medicine and get care today; the caller stores the
report and queues the helper alert in the same transaction, before the advice is shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.dialogue.choices import CANCEL, OPT, Choice
from bot.dialogue.conversation import Conversation, FlowTurn
from bot.dialogue.messages import Inbound, Kind, Reply
from bot.i18n import Translator, translator
from bot.texts import ADVICE, SYMPTOM_LABELS
from treatment.triage import Level, Severity, Triage, rules

FLOW = "symptom"
MAX_SYMPTOMS = 5
MAX_TEXT = 500


@dataclass(frozen=True, slots=True)
class Report:
    symptoms: tuple[tuple[str, Severity], ...]
    free_text: str | None
    triage: Triage


Turn = FlowTurn[Report]


def begin(now: datetime, language: str, drugs: Sequence[str], *, contraception_told: bool) -> Turn:
    conversation = Conversation(
        FLOW,
        "which",
        {
            "language": language,
            "drugs": list(drugs),
            "picked": [],
            "contraception_told": contraception_told,
        },
        now,
    )
    return Turn([_ask(conversation)], conversation)


def handle(conversation: Conversation, event: Inbound, now: datetime) -> Turn:
    """Take one answer.

    Steps:
    1. `which`: a symptom from the offered list (red flags first), or "none of these".
    2. `severity`: mild, moderate or severe for that symptom.
    3. `more`: another symptom (back to 1) or done.
    4. `words`: optional free text, or skip; then triage and advice.
    A pick must be one of the options of the current step; text is only read at `words`.
    """
    t = translator(conversation.data["language"])
    if event.kind is Kind.PICK and event.pick is not None and event.pick.verb == CANCEL:
        return Turn([Reply(t._("Cancelled. Nothing was recorded."))], None)
    option = event.option(_ask(conversation))
    step = conversation.step
    data = conversation.data
    if step == "which" and option is not None:
        return _next(conversation.at("severity", now, current=option), now)
    if step == "severity" and option is not None:
        picked = [*data["picked"], [data["current"], int(option)]]
        if len(picked) >= MAX_SYMPTOMS:
            return _next(conversation.at("words", now, picked=picked, current=None), now)
        return _next(conversation.at("more", now, picked=picked, current=None), now)
    if step == "more" and option is not None:
        return _next(conversation.at("which" if option == "yes" else "words", now), now)
    if step == "words":
        text = None
        if option == "skip":
            text = ""
        elif event.kind is Kind.TEXT and event.text.strip():
            text = " ".join(event.text.split())[:MAX_TEXT]
        if text is not None:
            return _finish(conversation, text or None, t)
    hint = Reply(t._("Please choose one of the options."))
    return Turn([hint, _ask(conversation)], conversation.at(step, now))


def _next(conversation: Conversation, now: datetime) -> Turn:
    return Turn([_ask(conversation)], conversation)


def _ask(conversation: Conversation) -> Reply:
    data = conversation.data
    t = translator(data["language"])
    cancel = (Choice(t._("Cancel"), CANCEL),)
    if conversation.step == "which":
        already = {s for s, _ in data["picked"]}
        rows: list[tuple[Choice, ...]] = [
            (Choice(t._(SYMPTOM_LABELS[s.id]), OPT, s.id),)
            for s in rules().offered(data["drugs"])
            if s.id not in already and s.id in SYMPTOM_LABELS
        ]
        return Reply(t._("What do you notice?"), (*rows, cancel), sensitive=True)
    if conversation.step == "severity":
        rows = [
            (Choice(t._("Mild"), OPT, str(int(Severity.MILD))),),
            (Choice(t._("Bothers me"), OPT, str(int(Severity.MODERATE))),),
            (Choice(t._("Severe or getting worse"), OPT, str(int(Severity.SEVERE))),),
        ]
        return Reply(t._("How bad is it?"), (*rows, cancel), sensitive=True)
    if conversation.step == "more":
        more = (Choice(t._("Yes, something else"), OPT, "yes"), Choice(t._("No"), OPT, "no"))
        return Reply(t._("Anything else?"), (more, cancel), sensitive=True)
    if any(symptom == "other" for symptom, _ in data["picked"]):
        return Reply(t._("Please describe it in your own words."), (cancel,), sensitive=True)
    return Reply(
        t._("Do you want to describe it in your own words? Type it, or press Skip."),
        ((Choice(t._("Skip"), OPT, "skip"),), cancel),
        sensitive=True,
    )


def _finish(conversation: Conversation, free_text: str | None, t: Translator) -> Turn:
    data = conversation.data
    picked = tuple((str(s), Severity(int(v))) for s, v in data["picked"])
    triage = rules().triage(picked, data["drugs"], contraception_told=data["contraception_told"])
    report = Report(picked, free_text, triage)
    return Turn(advice(t, triage), None, report)


def advice(t: Translator, triage: Triage) -> list[Reply]:
    """What the patient reads after a report, most urgent first."""
    if triage.level is Level.RED_FLAG:
        lines = [
            t._(
                "⚠️ This can be a serious reaction to the medicine. Stop taking the medicine "
                "and get medical care today. Show this message to the clinician."
            )
        ]
    elif triage.level is Level.SOON:
        lines = [
            t.ngettext(
                "Please see a clinician in the next few days and tell them about this. Keep "
                "taking your medicine unless they tell you otherwise. I will ask again in {n} "
                "day.",
                "Please see a clinician in the next few days and tell them about this. Keep "
                "taking your medicine unless they tell you otherwise. I will ask again in {n} "
                "days.",
                int(triage.recheck_days or 0),
            )
        ]
    else:
        lines = [
            t._(
                "This is a known, harmless effect of the medicine. Keep taking it as usual. "
                "Tell a clinician if it worries you."
            )
        ]
    lines.extend(t._(ADVICE[code]) for code in triage.advice if code in ADVICE)
    return [Reply("\n\n".join(lines), sensitive=True)]
