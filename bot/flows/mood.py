"""Mood check-in: PHQ-2, and the PHQ-9 when it is positive, in warm and plain words.

Scoring is `treatment.mood`. Any answer above 0 to the self-harm item stops the questions at
once and shows crisis help; the caller alerts the helper if the patient consented. "Not now"
is always offered and never scolded; an abandoned check-in simply expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.crisis import load_crisis_lines
from bot.dialogue.choices import OPT, Choice
from bot.dialogue.conversation import Conversation
from bot.dialogue.messages import Inbound, Reply
from bot.i18n import Translator, translator
from bot.texts import N_
from treatment.mood import Outcome, phq2_step, phq9_step

FLOW = "mood"

ITEMS = (
    N_("Little interest or pleasure in doing things"),
    N_("Feeling down, depressed, or hopeless"),
    N_("Trouble falling or staying asleep, or sleeping too much"),
    N_("Feeling tired or having little energy"),
    N_("Poor appetite or overeating"),
    N_(
        "Feeling bad about yourself, or that you are a failure or have let yourself or your "
        "family down"
    ),
    N_("Trouble concentrating on things, such as reading the newspaper or watching television"),
    N_(
        "Moving or speaking so slowly that other people could have noticed, or being so "
        "fidgety or restless that you have been moving around a lot more than usual"
    ),
    N_("Thoughts that you would be better off dead, or of hurting yourself in some way"),
)
ANSWERS = (
    N_("Not at all"),
    N_("Several days"),
    N_("More than half the days"),
    N_("Nearly every day"),
)


@dataclass(frozen=True, slots=True)
class Result:
    """A finished (or stopped) check-in, for the caller to store."""

    instrument: str  # "phq2" or "phq9"
    answers: tuple[int, ...]
    score: int
    band: str | None
    crisis: bool


@dataclass(frozen=True, slots=True)
class Turn:
    replies: list[Reply]
    conversation: Conversation | None
    result: Result | None = None


def begin(now: datetime, language: str, zone: str | None, *, discreet: bool = False) -> Turn:
    conversation = Conversation(
        FLOW,
        "item",
        {"language": language, "zone": zone, "answers": [], "discreet": discreet},
        now,
    )
    t = translator(language)
    intro = Reply(
        t._(
            "A short check on how you have been feeling. Long treatment is hard, and how you "
            "feel matters as much as the pills. Two questions; answer only if you want to."
        )
    )
    return Turn([intro, _ask(conversation)], conversation)


def handle(conversation: Conversation, event: Inbound, now: datetime) -> Turn:
    """Take one answer.

    Steps:
    1. "Not now": stop. A complete PHQ-2 is kept; a half-answered questionnaire is not.
    2. At an item, an answer 0-3 is added. After two answers the PHQ-2 is scored: negative
       ends warmly; positive asks whether the patient agrees to seven more questions.
    3. During the PHQ-9 every answer is checked at once for the self-harm item (crisis).
    4. The full PHQ-9 ends with words that fit its band.
    """
    data = conversation.data
    t = translator(data["language"])
    option = event.option(_ask(conversation))
    answers: list[int] = list(data["answers"])
    if option == "stop":
        return _stop(t, answers)
    if conversation.step == "more":
        if option == "yes":
            moved = conversation.at("item", now, phq9=True)
            return Turn([_ask(moved)], moved)
        return _retry(t, conversation, now)
    if option is None or not option.isdigit():
        return _retry(t, conversation, now)
    answers.append(int(option))
    if not data.get("phq9"):
        step = phq2_step(answers)
        if step.outcome is Outcome.CONTINUE:
            moved = conversation.at("item", now, answers=answers)
            return Turn([_ask(moved)], moved)
        result = Result("phq2", tuple(answers), step.score, None, crisis=False)
        if step.outcome is Outcome.PHQ2_NEGATIVE:
            return Turn(
                [Reply(t._("Thank you. I'm glad to hear it. I'll check in again in two weeks."))],
                None,
                result,
            )
        moved = conversation.at("more", now, answers=answers)
        return Turn([_ask(moved)], moved, None)
    step9 = phq9_step(answers)
    if step9.outcome is Outcome.CRISIS:
        result = Result("phq9", tuple(answers), step9.score, None, crisis=True)
        return Turn(crisis_replies(t, data.get("zone")), None, result)
    if step9.outcome is Outcome.CONTINUE:
        moved = conversation.at("item", now, answers=answers)
        return Turn([_ask(moved)], moved)
    result = Result("phq9", tuple(answers), step9.score, step9.band, crisis=False)
    return Turn([_band_reply(t, step9.band, bool(data.get("discreet")))], None, result)


def _retry(t: Translator, conversation: Conversation, now: datetime) -> Turn:
    hint = Reply(t._("Please choose one of the options."))
    return Turn([hint, _ask(conversation)], conversation.at(conversation.step, now))


def _stop(t: Translator, answers: list[int]) -> Turn:
    text = t._("That's fine. We can do this another time. I'm here whenever you need me.")
    if len(answers) >= 2:
        step = phq2_step(answers[:2])
        return Turn(
            [Reply(text)], None, Result("phq2", tuple(answers[:2]), step.score, None, False)
        )
    return Turn([Reply(text)], None)


def _ask(conversation: Conversation) -> Reply:
    data = conversation.data
    t = translator(data["language"])
    stop = (Choice(t._("Not now"), OPT, "stop"),)
    if conversation.step == "more":
        return Reply(
            t._(
                "Thank you for answering. It sounds like things have been heavy lately. May I "
                "ask seven more short questions? It helps to know how to support you."
            ),
            ((Choice(t._("Yes, go on"), OPT, "yes"),), stop),
            sensitive=True,
        )
    index = len(data["answers"])
    question = t._(
        "Over the last 2 weeks, how often have you been bothered by this?\n\n{item}",
        item=t._(ITEMS[index]),
    )
    rows = tuple((Choice(t._(label), OPT, str(value)),) for value, label in enumerate(ANSWERS))
    return Reply(question, (*rows, stop), sensitive=True)


def crisis_replies(t: Translator, zone: str | None) -> list[Reply]:
    lines = load_crisis_lines()
    parts = [
        t._(
            "Thank you for telling me. You matter, and you do not have to carry this alone. "
            "Please talk to someone today."
        ),
        lines.default_text.get(t.locale) or lines.default_text["en"],
    ]
    parts.extend(f"☎ {line.name}: {line.number}" for line in lines.for_zone(zone))
    parts.append(t._("You can also reach out to a clinician or someone you trust."))
    return [Reply("\n\n".join(parts), sensitive=True)]


def _band_reply(t: Translator, band: str | None, discreet: bool) -> Reply:
    if band in ("minimal", "mild"):
        text = t._(
            "Thank you for sharing this. Some days are harder than others. If it gets heavier, "
            "tell a clinician or someone you trust. I'll check in again in two weeks."
        )
    elif discreet:
        text = t._(
            "Thank you for sharing this. What you describe deserves care. Please tell a "
            "clinician how you have been feeling; feeling this way during a long treatment is "
            "common and can be helped. Your helper can support you too."
        )
    else:
        text = t._(
            "Thank you for sharing this. What you describe deserves care, just like your lungs "
            "do. Please tell a clinician how you have been feeling; depression during TB "
            "treatment is common and can be treated. Your helper can support you too."
        )
    return Reply(text, sensitive=True)
