"""Onboarding: from `/start` to a confirmed treatment plan, one question at a time.

The flow is pure: it reads the conversation so far and one inbound event, and returns the
replies, the next conversation state and, on confirmation, the `Setup` to store. Nothing is
stored before the patient confirms, so cancelling at any step leaves nothing behind.

Order: language (only when the client's language is not one we speak), privacy consent,
alias, time zone (first the zones of the person's address, to confirm, where the channel
knows them: a phone number's country), regimen (or, when it is not in the list, what the
prescription says: `custom.py`), start date, dose times, the doses since a
past start (only then), weight (only when the regimen's tablets depend on it), which
tablets the patient holds (only where the regimen comes as a combination or as separate
tablets), discreet mode with its cover word in one question, summary. The time zone comes
before the start date so that "today" means the patient's today.

On a channel whose every message others read on the way (`ChannelSpec.discreet_only`: SMS),
set-up is discreet from its first question: the regimens are listed by length and rhythm,
never by name; the summary counts tablets under the cover word; the last question picks that
word, and plain wording is not offered.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.dialogue.choices import CANCEL
from bot.dialogue.conversation import Conversation, FlowTurn
from bot.dialogue.messages import Inbound, Kind, Reply
from bot.flows.onboarding import custom
from bot.flows.onboarding.discreet import accept_discreet, ask_discreet
from bot.flows.onboarding.earlier import accept_earlier, accept_missed, ask_earlier, ask_missed
from bot.flows.onboarding.schedule import (
    accept_regimen,
    accept_start,
    accept_times,
    ask_regimen,
    ask_start,
    ask_times,
)
from bot.flows.onboarding.setup import Setup
from bot.flows.onboarding.step import FLOW, Step, channel_data, discreet_only, read_answer
from bot.flows.onboarding.summary import accept_confirm, ask_confirm, done
from bot.flows.onboarding.tablets import accept_products, accept_weight, ask_products, ask_weight
from bot.flows.onboarding.welcome import (
    accept_alias,
    accept_consent,
    accept_language,
    ask_alias,
    ask_consent,
    ask_language,
)
from bot.flows.onboarding.zone import accept_guess, accept_zone, ask_guess, ask_zone
from bot.i18n import negotiate, spoken, translator

Turn = FlowTurn[Setup]


def begin(
    now: datetime,
    language_tag: str | None,
    *,
    discreet_only: bool = False,
    zones: Sequence[str] = (),
) -> Turn:
    """The first question: the privacy notice in the client's language when we speak it (with
    a button to pick another), else the language question.

    `discreet_only`: the channel's messages are read on the way (see the module docstring);
    `zones`: the time zones the person's address points to, offered to confirm.
    """
    known = spoken(language_tag)
    channel = channel_data(discreet_only, zones, now)
    if known is None:
        data = {"language": negotiate(language_tag), **channel}
        conversation = Conversation(FLOW, "language", data, now)
    else:
        data = {"language": known, "guessed": True, **channel}
        conversation = Conversation(FLOW, "consent", data, now)
    return Turn([_ask(conversation)], conversation)


def handle(conversation: Conversation, event: Inbound, now: datetime) -> Turn:
    """Take one answer to the current question.

    Steps:
    1. A cancel choice ends the flow with nothing stored.
    2. The answer is read: a pick must be one of the options this step offered (a replayed or
       forged button from another step is not), typed text goes through the step's parser.
    3. A valid answer moves to the next step and asks its question; an invalid one repeats the
       question with a short reason, keeping everything said so far.
    """
    t = translator(conversation.data.get("language", "en"))
    if event.kind is Kind.PICK and event.pick is not None and event.pick.verb == CANCEL:
        return Turn(
            [Reply(t._("Setup cancelled. Nothing was saved. Send /start to begin again."))], None
        )
    step = STEPS[conversation.step]
    answer = read_answer(event, _ask(conversation))
    outcome = step.accept(conversation, answer, now) if answer is not None else None
    if outcome is None or isinstance(outcome, str):
        problem = outcome or t._("Please choose one of the options, or type your answer.")
        return Turn([Reply(problem), _ask(conversation)], conversation.at(conversation.step, now))
    if isinstance(outcome, Setup):
        said = done(
            translator(outcome.language), outcome, numbered=discreet_only(conversation.data)
        )
        return Turn([said], None, outcome)
    if outcome.step == "declined":
        t = translator(outcome.data.get("language", "en"))
        return Turn(
            [
                Reply(
                    t._("That's all right. Nothing was saved. Send /start if you change your mind.")
                )
            ],
            None,
        )
    return Turn([_ask(outcome)], outcome)


def _ask(conversation: Conversation) -> Reply:
    t = translator(str(conversation.data.get("language", "en")))
    return STEPS[conversation.step].ask(t, conversation.data)


STEPS: dict[str, Step] = {
    "language": Step(ask_language, accept_language),
    "consent": Step(ask_consent, accept_consent),
    "alias": Step(ask_alias, accept_alias),
    "zone_guess": Step(ask_guess, accept_guess),
    "zone": Step(ask_zone, accept_zone),
    "regimen": Step(ask_regimen, accept_regimen),
    **custom.QUESTIONS,
    "start": Step(ask_start, accept_start),
    "times": Step(ask_times, accept_times),
    "weight": Step(ask_weight, accept_weight),
    "earlier": Step(ask_earlier, accept_earlier),
    "missed": Step(ask_missed, accept_missed),
    "products": Step(ask_products, accept_products),
    "discreet": Step(ask_discreet, accept_discreet),
    "confirm": Step(ask_confirm, accept_confirm),
}
