"""From a text someone sent to what the dialogue hears, or to a short answer of the channel's own.

Steps of `SmsInbound.received`:
1. Read the text tolerantly (`bot.sms.replies.read`): a number, a word, or text.
2. STOP, in any language, stops every message to the number at once (the sender refuses
   anything for a stopped number) and is confirmed once; a repeat is silence.
3. A stopped number hears nothing, except the confirmation that START has lifted the stop.
4. HELP lists the keywords. An empty text is silence.
5. A stranger can only text START (which begins enrolment) or JOIN and an invitation code (a
   helper answering an invitation); anything else gets one short greeting a day at most, then
   silence: every SMS costs the operator money. People the bot knows text the conversation's
   commands as words (PROGRESS, 진행, 进度: `keywords.toml`); RESUME lifts a STOP too.
6. A number answers the last menu sent to this phone (stored, sealed, with its expiry, so it
   still works after a restart). Out of range: a re-prompt, unless a question that wants a
   typed answer is open (a weight, "55"); no menu open: "that answers nothing". A word
   answers the option that means it (taken, later, yes...), if the menu has one. A number is
   never turned into an action the menu did not offer; "taken" or "unwell" with no menu that
   offers them is the command of that meaning.
7. Everything else goes to the dialogue as typed text, and its replies go back out through
   the SMS channel (which stores their menu). A patient who has just been forgotten leaves
   nothing behind in the channel's own tables either.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from bot.dialogue.choices import OPT, Picked, parse_payload
from bot.dialogue.conversation import Conversation
from bot.dialogue.messages import Inbound, Kind, Reply
from bot.i18n import translator
from bot.sms import texts
from bot.sms.phone import region_of
from bot.sms.replies import Reading, Word, command, read
from bot.sms.transport import InboundSms
from scheduler.clock import Clock
from storage.store import Store

log = logging.getLogger(__name__)

CHANNEL: Final = "sms"
PATIENT_PARTY = "patient"
# Commands a number the bot does not know may text: a helper answering an invitation. Anything
# else from a stranger gets the daily greeting at most.
STRANGERS_COMMANDS = frozenset({"join"})
# Words that answer a menu when one offers them, and are the command of the same meaning when
# none does.
WORD_COMMANDS: dict[Word | None, str] = {Word.TAKEN: "taken", Word.UNWELL: "symptom"}

# Which offered option a word answers, by the option's verb (and a flow option's argument), in
# order of preference: "ok" is yes to a question, and "taken" to a dose reminder.
_WORD_OPTIONS: dict[Word, tuple[tuple[str, str | None], ...]] = {
    Word.TAKEN: (("taken", None),),
    Word.LATER: (("snooze", None),),
    Word.SKIP: (("skip", None),),
    Word.UNWELL: (("symptom", None),),
    Word.YES: ((OPT, "yes"), ("taken", None)),
    Word.NO: ((OPT, "no"),),
}


class SmsOut(Protocol):
    """Where the SMS channel's own answers and the dialogue's replies go."""

    async def replies(self, event: Inbound, replies: Sequence[Reply]) -> None: ...

    async def notice(self, number: str, text: str, *, essential: bool = False) -> None:
        """One plain text; `essential` ones (the STOP confirmation) go even to a stopped
        number and beyond the daily cap."""
        ...


Handle = Callable[[Inbound], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Menu:
    options: tuple[str, ...]
    ref: str | None

    @staticmethod
    def from_dict(raw: dict[str, Any]) -> Menu:
        options = raw.get("options")
        ref = raw.get("ref")
        return Menu(
            tuple(str(o) for o in options) if isinstance(options, list) else (),
            str(ref) if ref is not None else None,
        )


class SmsInbound:
    def __init__(
        self,
        store: Store,
        handle: Handle,
        verbs: frozenset[str],
        out: SmsOut,
        clock: Clock,
    ) -> None:
        self.store = store
        self.handle = handle
        self.verbs = verbs
        self.out = out
        self.clock = clock

    async def received(self, sms: InboundSms) -> None:
        """See the module docstring."""
        number = sms.sender
        reading = read(sms.text)
        identity = await self.store.identities.find(CHANNEL, number)
        patient_id = identity.patient_id if identity is not None else None
        language = await self._language(number, patient_id)
        t = translator(language)
        if reading.word is Word.STOP:
            await self.store.sms.clear_menu(number)
            if await self.store.sms.stop(number, patient_id=patient_id):
                await self.out.notice(number, texts.stopped(t), essential=True)
            return
        if await self.store.sms.stopped(number):
            if reading.word is not Word.START and command(sms.text) != ("resume", ""):
                return
            await self.store.sms.resume(number)
            if patient_id is not None:
                await self.out.notice(number, texts.resumed(t))
                return
        if reading.empty:
            return
        if reading.word is Word.HELP:
            await self.out.notice(number, texts.help_text(t))
            return
        event = await self._event(sms, reading, number, patient_id, language)
        if event is None:
            return
        replies = await self.handle(event)
        if replies:
            await self.out.replies(event, replies)
        if patient_id is not None and await self.store.identities.find(CHANNEL, number) is None:
            # The patient was just forgotten (FORGET, confirmed): what the channel kept about
            # the number goes too, the count of the goodbye text included.
            await self.store.sms.forget_number(number)

    async def _language(self, number: str, patient_id: str | None) -> str:
        if patient_id is not None:
            return (await self.store.patients.get(patient_id)).language
        return texts.language_for_region(region_of(number))

    async def _event(
        self,
        sms: InboundSms,
        reading: Reading,
        number: str,
        patient_id: str | None,
        language: str,
    ) -> Inbound | None:
        """The dialogue event for this text, or None when the channel answered it itself."""
        t = translator(language)

        def make(kind: Kind, **fields: Any) -> Inbound:
            return Inbound(
                CHANNEL, number, number, kind, language=language, update_ref=sms.ref, **fields
            )

        if reading.word is Word.START:
            return make(Kind.COMMAND, text=sms.text, command="start")
        typed = command(sms.text)
        if typed is not None and typed[0] in STRANGERS_COMMANDS:
            return make(Kind.COMMAND, text=sms.text, command=typed[0], args=typed[1])
        stored = await self.store.sms.menu(number)
        if (
            patient_id is None
            and stored is None  # a menu sent to it: someone answering an invitation
            and not await self.store.helpers.find_by_address(CHANNEL, number)
        ):
            if await self.store.sms.segments_on(number, self.clock.now().date()) == 0:
                await self.out.notice(number, texts.stranger(t))
            return None
        if typed is not None:
            return make(Kind.COMMAND, text=sms.text, command=typed[0], args=typed[1])
        if reading.word is Word.FORGET:
            return make(Kind.COMMAND, text=sms.text, command="forget")
        menu = Menu.from_dict(stored[1]) if stored is not None else None
        if reading.number is not None:
            return await self._numbered(reading.number, menu, sms, patient_id, make, t)
        if reading.word is not None and menu is not None:
            pick = self._by_word(reading.word, menu)
            if pick is not None:
                return make(Kind.PICK, pick=pick, message_ref=menu.ref)
        if reading.word in WORD_COMMANDS:
            # "taken" with no reminder open records the dose now, as /taken does.
            return make(Kind.COMMAND, text=sms.text, command=WORD_COMMANDS[reading.word])
        return Inbound.from_text(
            CHANNEL, number, number, sms.text, language=language, update_ref=sms.ref
        )

    async def _numbered(
        self,
        number: int,
        menu: Menu | None,
        sms: InboundSms,
        patient_id: str | None,
        make: Callable[..., Inbound],
        t: Any,
    ) -> Inbound | None:
        if menu is not None and 1 <= number <= len(menu.options):
            pick = parse_payload(menu.options[number - 1], self.verbs)
            if pick is not None:
                return make(Kind.PICK, pick=pick, message_ref=menu.ref)
        if patient_id is not None and await self._question_open(patient_id):
            return make(Kind.TEXT, text=sms.text)
        if menu is not None and menu.options:
            await self.out.notice(sms.sender, texts.pick_a_number(t, len(menu.options)))
        else:
            await self.out.notice(sms.sender, texts.nothing_open(t))
        return None

    def _by_word(self, word: Word, menu: Menu) -> Picked | None:
        picks = [p for p in (parse_payload(o, self.verbs) for o in menu.options) if p is not None]
        for verb, arg in _WORD_OPTIONS.get(word, ()):
            for pick in picks:
                if pick.verb == verb and (arg is None or pick.arg == arg):
                    return pick
        return None

    async def _question_open(self, patient_id: str) -> bool:
        """Whether a flow is waiting for a typed answer (a conversation that has not expired)."""
        stored = await self.store.conversations.get(patient_id, PATIENT_PARTY)
        if stored is None or not stored.state:
            return False
        return not Conversation.from_dict(dict(stored.state)).expired(self._now())

    def _now(self) -> datetime:
        return self.clock.now()
