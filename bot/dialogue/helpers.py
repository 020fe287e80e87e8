"""The helper desk: what a helper does, and the patient's answer about a helper who accepted.

A helper is found only through the blind index of their own account (`find_by_address`), so a
helper acts on a patient only through a role that patient confirmed. The desk routes each
event to its part: linking (`bot.dialogue.helper_links`), the helper's own commands and
buttons (`bot.dialogue.helper_side`); the patient's management of their helpers is a flow of
the patient's side (`bot.dialogue.helper_care`).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.dialogue import helper_enrol, helper_links, helper_regimen, helper_side, helper_visits
from bot.dialogue.helper_common import (
    COMMANDS,
    CONFIRM,
    DECLINE,
    JOIN,
    LEAVE,
    REJECT,
    START_PREFIX,
    STATUS,
    VERBS,
    not_for_you,
    typed_code,
)
from bot.dialogue.helper_side import not_helping
from bot.dialogue.messages import Inbound, Kind, Reply
from bot.i18n import negotiate, translator
from scheduler.alerts import HelperPrefs
from scheduler.channels import ChannelRegistry
from scheduler.clock import Clock
from scheduler.compose import Composer
from storage.records import Helper
from storage.store import Store

__all__ = ["COMMANDS", "VERBS", "HelperDesk"]


class HelperDesk:
    def __init__(
        self,
        store: Store,
        composer: Composer,
        clock: Clock,
        *,
        channels: ChannelRegistry,
        poke: Callable[[], None],
    ) -> None:
        self.store = store
        self.composer = composer
        self.clock = clock
        self.channels = channels
        self.poke = poke

    def claims(self, event: Inbound) -> bool:
        """Whether `event` is for the helper side (or the patient's answer about a helper)."""
        if event.kind is Kind.COMMAND:
            return event.command in COMMANDS or (
                event.command == "start" and event.args.startswith(START_PREFIX)
            )
        if event.kind is Kind.TEXT and typed_code(event.text) is not None:
            return True
        return event.kind is Kind.PICK and event.pick is not None and event.pick.verb in VERBS

    async def roles(self, event: Inbound) -> list[Helper]:
        return await self.store.helpers.find_by_address(event.channel, event.user)

    async def handle(self, event: Inbound) -> list[Reply]:
        """1. `/join CODE` (or a deep link, or the code's line as it was passed on: "JOIN
           CODE" from an SMS invitation) and the buttons of linking need no role.
        2. The helper's commands need a role; they answer in the helper's language.
        3. The helper's buttons are checked against the presser's own roles."""
        now = self.clock.now()
        t = translator(negotiate(event.language))
        code = typed_code(event.text) if event.kind is Kind.TEXT else None
        if code is not None:
            return await helper_links.join(self, event, code, t)
        if event.kind is Kind.COMMAND:
            if event.command in ("join", "start"):
                code = (
                    event.args.removeprefix(START_PREFIX)
                    if event.command == "start"
                    else event.args
                )
                return await helper_links.join(self, event, code, t)
            roles = await self.roles(event)
            if not roles:
                return [not_helping(t)]
            t = translator(HelperPrefs.of(roles[0]).language or negotiate(event.language))
            if event.command == "patients":
                return [await helper_side.patients(self, roles, t, now)]
            if event.command == "enrol":
                return [await helper_enrol.enrol(self, event, roles, t, now)]
            if event.command == "status":
                return await helper_side.status(self, roles, event.args, t, now)
            if event.command == "visitfor":
                return [await helper_visits.note(self, roles, event.args, t, now)]
            if event.command == "regimenfor":
                return await helper_regimen.begin(self, event, roles, t, now)
            return [await helper_side.leave_question(self, roles, t)]
        pick = event.pick
        if pick is None:  # claims() only lets picks with a helper verb through
            return [not_for_you(t)]
        if pick.verb == JOIN:
            return await helper_links.accept(self, event, pick.arg, t, now)
        if pick.verb == DECLINE:
            return await helper_links.decline(self, event, pick.arg, t, now)
        if pick.verb in (CONFIRM, REJECT):
            return await helper_links.confirm(self, event, pick.arg, pick.verb == CONFIRM, now)
        roles = await self.roles(event)
        if pick.verb == LEAVE:
            return await helper_side.leave(self, roles, pick.arg, t, now)
        if pick.verb == STATUS:
            role = next((r for r in roles if r.id == pick.arg), None)
            if role is None:
                return [not_for_you(t)]
            return [await helper_side.week(self, role, t, now)]
        return await helper_side.answer_alert(self, roles, pick.verb, pick.arg, t, now)
