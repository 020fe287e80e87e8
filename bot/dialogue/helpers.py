"""The helper side of the dialogue, and the patient's side of linking and managing helpers.

A helper is found only through the blind index of their own account (`find_by_address`), so a
helper acts on a patient only through a role that patient confirmed. Every button a helper
presses carries a random id (an invitation, a helper role, an incident) that is checked
against the presser's own roles before anything is read or changed: a forged or replayed id
answers "not for you" and touches nothing.

Linking, in order:
1. The patient names the helper and the name the helper will see (`/helper`); an invitation
   code is made (single use, 24 hours) and shown as a link and as text to type.
2. The helper opens the link or sends ``/join CODE`` (5 tries per chat per hour), reads what
   the role means and accepts. The first account to open an invitation holds it: only it can
   accept, and a second account opening it voids it (the patient is told).
3. The patient is asked to confirm, with a few words both sides are shown
   (`bot.check_phrase`) and compare by voice, never with the account's name, which anyone can
   copy; only then is the helper linked and told so. Until then, nothing about the patient
   reaches them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot import check_phrase
from bot.compose import ACK, HAND_ON, alert_text, day_marks, shown_name, to_payload, week_text
from bot.dialogue.choices import Choice
from bot.dialogue.messages import Inbound, Kind, Reply
from bot.flows import helpers as flow
from bot.i18n import Translator, negotiate, translator
from scheduler.alerts import (
    MAX_HELPERS,
    MISSED_RUN_CHOICES,
    SUMMARY_EVERY,
    HelperPrefs,
    Outcome,
    acknowledge,
    escalation_delay,
    pass_on,
    was_told,
)
from scheduler.channels import ChannelRegistry, ChannelSpec
from scheduler.clock import Clock
from scheduler.compose import Composer
from scheduler.doses import day_counts
from scheduler.outbox import Kind as OutboxKind
from scheduler.outbox import Payload
from storage.errors import NotFound
from storage.records import (
    DIRECT,
    PATIENT,
    Address,
    Helper,
    HelperState,
    OpenedInvite,
    OutboxMessage,
    Patient,
    helper_recipient,
)
from storage.store import Repositories, Store

JOIN = "hjoin"  # the helper accepts an invitation they opened
DECLINE = "hno"
CONFIRM = "hok"  # the patient confirms the account that accepted
REJECT = "hnot"
LEAVE = "hleave"
STATUS = "hstat"
VERBS = frozenset({JOIN, DECLINE, CONFIRM, REJECT, LEAVE, STATUS, ACK, HAND_ON})
COMMANDS = frozenset({"join", "patients", "status", "leave"})
START_PREFIX = "join-"
INVITE_VALID = timedelta(hours=24)
CODE_TRIES = 5
CODE_TRIES_PER = timedelta(hours=1)


def format_code(code: str) -> str:
    """The code in groups of four, easier to read aloud and type."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


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
        return event.kind is Kind.PICK and event.pick is not None and event.pick.verb in VERBS

    async def roles(self, event: Inbound) -> list[Helper]:
        return await self.store.helpers.find_by_address(event.channel, event.user)

    async def handle(self, event: Inbound) -> list[Reply]:
        now = self.clock.now()
        t = translator(negotiate(event.language))
        if event.kind is Kind.COMMAND:
            if event.command in ("join", "start"):
                code = (
                    event.args.removeprefix(START_PREFIX)
                    if event.command == "start"
                    else event.args
                )
                return await self._join(event, code, t)
            roles = await self.roles(event)
            if not roles:
                return [not_helping(t)]
            t = translator(HelperPrefs.of(roles[0]).language or negotiate(event.language))
            if event.command == "patients":
                return [await self._patients(roles, t, now)]
            if event.command == "status":
                return await self._status(roles, event.args, t, now)
            return [await self._leave_question(roles, t)]
        pick = event.pick
        if pick is None:  # claims() only lets picks with a helper verb through
            return [not_for_you(t)]
        if pick.verb == JOIN:
            return await self._accept(event, pick.arg, t, now)
        if pick.verb == DECLINE:
            return [Reply(t._("All right. Nothing was linked."), edit=True)]
        if pick.verb in (CONFIRM, REJECT):
            return await self._confirm(event, pick.arg, pick.verb == CONFIRM, now)
        roles = await self.roles(event)
        if pick.verb == LEAVE:
            return await self._leave(roles, pick.arg, t, now)
        if pick.verb == STATUS:
            role = next((r for r in roles if r.id == pick.arg), None)
            if role is None:
                return [not_for_you(t)]
            return [await self._week(role, t, now)]
        return await self._answer_alert(roles, pick.verb, pick.arg, t, now)

    # --- linking ------------------------------------------------------------------------------

    async def _join(self, event: Inbound, code: str, t: Translator) -> list[Reply]:
        """Steps 2 of the module docstring: the code, then what the role means."""
        if not code.strip():
            return [Reply(t._("Please send /join followed by the code you were given."))]
        if not await self.store.helpers.try_code(
            event.channel,
            event.user,
            limit=CODE_TRIES,
            per=CODE_TRIES_PER,
        ):
            return [Reply(t._("Too many tries. Please wait an hour, then try again."))]
        async with self.store.transaction() as tx:
            opened = await tx.helpers.open(code, event.channel, event.user)
            if opened is not None and opened.voided:
                await self._tell_voided(tx, opened)
        if opened is None:
            return [
                Reply(
                    t._(
                        "That code does not work. It may be mistyped, already used or older "
                        "than 24 hours. Please ask for a new one."
                    )
                )
            ]
        invite = opened.invite
        if opened.own:
            return [Reply(t._("This is your own invitation. Please send it to your helper."))]
        if opened.voided:
            self.poke()
            return [
                Reply(
                    t._(
                        "Another account had already opened this invitation, so I cancelled it "
                        "to keep it safe. Nothing was shared. Please ask the person who invited "
                        "you for a new one."
                    )
                )
            ]
        patient = await self.store.patients.get(invite.patient_id)
        helper = await self.store.helpers.get(invite.patient_id, invite.helper_id)
        name = shown_name(HelperPrefs.of(helper), patient)
        already = await self.store.helpers.find_by_address(
            event.channel,
            event.user,
            states=(HelperState.ACTIVE, HelperState.ACCEPTED),
        )
        if any(role.patient_id == invite.patient_id for role in already):
            return [Reply(t._("You are already {alias}'s helper.", alias=name))]
        text = t._(
            "{alias} asks you to be their treatment helper.\n\n"
            "What it means: I will tell you when {alias} may need a hand, for example when "
            "doses stop being confirmed, and you reach out to them kindly. You will not see "
            "their health details unless they allow it. You can stop at any time with /leave.",
            alias=name,
        )
        choices = (
            (Choice(t._("I accept"), JOIN, invite.id),),
            (Choice(t._("No, thank you"), DECLINE, invite.id),),
        )
        return [Reply(text, choices)]

    async def _tell_voided(self, tx: Repositories, opened: OpenedInvite) -> None:
        """A second account opened the invitation: the patient is told, and so is the first
        account if it had accepted, in the transaction of the void."""
        now = self.clock.now()
        invite = opened.invite
        patient = await tx.patients.get(invite.patient_id)
        helper = await tx.helpers.get(patient.id, invite.helper_id)
        pt = translator(patient.language)
        text = pt._(
            "Two different accounts opened your invitation for {name}, so I cancelled it: "
            "someone else may have seen it. Nothing was shared. Make a new invitation with "
            "/helper and send it to {name} privately.",
            name=helper.alias,
        )
        await tx.outbox.enqueue(
            _notice(patient.id, PATIENT, f"voided:{invite.id}", Payload.message(text), now)
        )
        first = opened.unlinked
        if first is not None and first.address:
            ft = translator(HelperPrefs.of(first).language or patient.language)
            bye = ft._(
                "The invitation you accepted was cancelled because another account opened "
                "it too. Nothing was shared. If you were invited, please ask for a new "
                "invitation."
            )
            await tx.outbox.enqueue(_direct(patient.id, first, f"void:{invite.id}", bye, now))

    async def _accept(
        self, event: Inbound, invite_id: str, t: Translator, now: datetime
    ) -> list[Reply]:
        """The helper accepts: linked as accepted, and the patient is asked to confirm."""
        language = negotiate(event.language)
        async with self.store.transaction() as tx:
            helper = await tx.helpers.accept(
                invite_id,
                event.channel,
                event.user,
                event.chat,
            )
            if helper is None:
                return [Reply(t._("This invitation is no longer open."), edit=True)]
            prefs = replace(HelperPrefs.of(helper), language=language)
            helper = await tx.helpers.set_permissions(
                helper.patient_id, helper.id, prefs.to_permissions()
            )
            patient = await tx.patients.get(helper.patient_id)
            phrase = check_phrase.draw()
            await tx.outbox.enqueue(
                _notice(
                    patient.id,
                    PATIENT,
                    f"accepted:{invite_id}",
                    _ask_patient(patient, helper, phrase),
                    now,
                )
            )
        self.poke()
        return [
            Reply(
                t._(
                    "Thank you! {alias} will now check that it is you: they will ask you, by "
                    "voice or in person, which words you see here:\n\n{words}\n\nTell them "
                    "yourself; I will tell you when they confirm.",
                    alias=shown_name(prefs, patient),
                    words=check_phrase.say(t, phrase),
                ),
                edit=True,
            )
        ]

    async def _confirm(
        self, event: Inbound, helper_id: str, yes: bool, now: datetime
    ) -> list[Reply]:
        """The patient's answer about an account that accepted their invitation."""
        identity = await self.store.identities.find(event.channel, event.user)
        if identity is None:
            return [not_for_you(translator(negotiate(event.language)))]
        async with self.store.transaction() as tx:
            patient = await tx.patients.get(identity.patient_id)
            t = translator(patient.language)
            try:
                helper = await tx.helpers.get(patient.id, helper_id)
            except NotFound:
                return [not_for_you(t)]
            if helper.state is not HelperState.ACCEPTED:
                return [Reply(t._("That is no longer waiting for you."), edit=True)]
            prefs = HelperPrefs.of(helper)
            ht = translator(prefs.language or patient.language)
            name = shown_name(prefs, patient)
            if not yes:
                gone = await tx.helpers.remove(patient.id, helper.id)
                text = ht._("{alias} did not confirm the link. Nothing was shared.", alias=name)
                await tx.outbox.enqueue(
                    _direct(patient.id, gone, f"unconfirmed:{helper.id}", text, now)
                )
                return [
                    Reply(
                        t._("Cancelled: they are not linked. /helper to invite again."), edit=True
                    )
                ]
            await tx.helpers.confirm(patient.id, helper.id)
            if not patient.consent.helper_alerts:
                await tx.patients.update(
                    replace(patient, consent=replace(patient.consent, helper_alerts=True))
                )
            text = ht._(
                "{alias} confirmed: you are now their helper. I will message you when they may "
                "need a hand. /patients shows how they are doing; /leave stops this.",
                alias=name,
            )
            await tx.outbox.enqueue(
                _notice(
                    patient.id,
                    helper_recipient(helper.id),
                    f"linked:{helper.id}",
                    Payload.message(text),
                    now,
                )
            )
        self.poke()
        return [
            Reply(
                t._(
                    "{name} is now your helper. /helper changes what they are told.",
                    name=helper.alias,
                ),
                edit=True,
            )
        ]

    # --- helper commands ----------------------------------------------------------------------

    async def _patients(self, roles: list[Helper], t: Translator, now: datetime) -> Reply:
        lines = [t._("The people you help, today:")]
        for role in roles:
            patient = await self.store.patients.get(role.patient_id)
            today = now.astimezone(ZoneInfo(patient.time_zone)).date()
            (day,) = await day_counts(self.store.doses, patient, [today])
            name = shown_name(HelperPrefs.of(role), patient)
            if not day.due:
                lines.append(t._("{alias}: no dose today", alias=name))
            else:
                lines.append(f"{name}: {day_marks(day)}")
        lines.append(t._("✅ confirmed, ❌ missed, ⏳ still to come. /status NAME shows 7 days."))
        return Reply("\n".join(lines))

    async def _status(
        self, roles: list[Helper], arg: str, t: Translator, now: datetime
    ) -> list[Reply]:
        wanted = " ".join(arg.split()).casefold()
        named: list[tuple[Helper, str]] = []
        for role in roles:
            patient = await self.store.patients.get(role.patient_id)
            named.append((role, shown_name(HelperPrefs.of(role), patient)))
        matches = [role for role, name in named if name.casefold() == wanted] if wanted else []
        if not wanted and len(roles) == 1:
            matches = roles
        if len(matches) == 1:
            return [await self._week(matches[0], t, now)]
        rows = tuple((Choice(name, STATUS, role.id),) for role, name in named)
        return [Reply(t._("Whose week would you like to see?"), rows)]

    async def _week(self, role: Helper, t: Translator, now: datetime) -> Reply:
        patient = await self.store.patients.get(role.patient_id)
        today = now.astimezone(ZoneInfo(patient.time_zone)).date()
        days = [today - timedelta(days=n) for n in range(6, -1, -1)]
        counts = await day_counts(self.store.doses, patient, days)
        return Reply(week_text(t, patient, HelperPrefs.of(role), counts))

    async def _leave_question(self, roles: list[Helper], t: Translator) -> Reply:
        rows = []
        for role in roles:
            patient = await self.store.patients.get(role.patient_id)
            name = shown_name(HelperPrefs.of(role), patient)
            rows.append((Choice(t._("Stop helping {alias}", alias=name), LEAVE, role.id),))
        return Reply(
            t._("Stop being a helper? The person you help will be told, without any details."),
            tuple(rows),
        )

    async def _leave(
        self, roles: list[Helper], helper_id: str, t: Translator, now: datetime
    ) -> list[Reply]:
        role = next((r for r in roles if r.id == helper_id), None)
        if role is None:
            return [not_for_you(t)]
        async with self.store.transaction() as tx:
            patient = await tx.patients.get(role.patient_id)
            await tx.helpers.remove(patient.id, role.id)
            pt = translator(patient.language)
            text = pt._(
                "{name} stopped being your helper. They will get no more messages about you. "
                "/helper to invite someone else.",
                name=role.alias,
            )
            await tx.outbox.enqueue(
                _notice(patient.id, PATIENT, f"left:{role.id}", Payload.message(text), now)
            )
        self.poke()
        name = shown_name(HelperPrefs.of(role), patient)
        return [
            Reply(t._("Done. You will get no more messages about {alias}.", alias=name), edit=True)
        ]

    async def _answer_alert(
        self, roles: list[Helper], verb: str, incident_id: str, t: Translator, now: datetime
    ) -> list[Reply]:
        """ "I'll reach out" or "Can't reach them" on an alert: only from a helper who was
        sent that alert, through their role for that patient."""
        incident = await self.store.incidents.find(incident_id)
        role = None
        if incident is not None:
            role = next((r for r in roles if was_told(incident, r)), None)
        if incident is None or role is None:
            return [not_for_you(t)]
        async with self.store.transaction() as tx:
            fresh = await tx.incidents.get(incident.patient_id, incident.id)
            if verb == ACK:
                outcome = await acknowledge(tx, self.composer, fresh, role, now)
            else:
                outcome = await pass_on(tx, self.composer, fresh, role, now)
            patient = await tx.patients.get(incident.patient_id)
        self.poke()
        prefs = HelperPrefs.of(role)
        answer = _outcome_text(t, outcome, shown_name(prefs, patient))
        if outcome is Outcome.BUSY:
            return [Reply(answer)]
        # The edited alert still says what it was about, in the words the patient allowed.
        return [Reply(f"{alert_text(t, patient, prefs, fresh)}\n\n{answer}", edit=True)]

    # --- the patient's /helper changes ---------------------------------------------------------

    async def menu(
        self, tx: Repositories, patient: Patient, now: datetime, focus: str | None = None
    ) -> flow.Turn:
        helpers = await _current(tx, patient.id)
        entries = [flow.entry(h.id, h.alias, h.state.value, HelperPrefs.of(h)) for h in helpers]
        minutes = int(escalation_delay(patient).total_seconds() // 60)
        return flow.begin(
            now,
            patient.language,
            patient.alias,
            entries,
            alerts_on=patient.consent.helper_alerts,
            escalate_minutes=minutes,
            focus=focus,
        )

    async def apply(
        self,
        tx: Repositories,
        patient: Patient,
        change: flow.Change,
        now: datetime,
        channel: ChannelSpec,
    ) -> tuple[list[Reply], flow.Turn | None]:
        """Apply a change from the `/helper` flow in the caller's transaction: the replies,
        and the menu to show again (None: the flow ends). `channel` is the one the patient
        is on: invitations take its form."""
        t = translator(patient.language)
        value = change.value
        if change.action == "invite":
            if len(await _current(tx, patient.id)) >= MAX_HELPERS:
                return [Reply(t._("You have {n} helpers, the most I allow.", n=MAX_HELPERS))], None
            prefs = HelperPrefs(shown_as=value["shown_as"])
            helper = await tx.helpers.add(
                patient.id, alias=value["name"], permissions=prefs.to_permissions()
            )
            return [await self._invitation(tx, patient, helper, now, channel)], None
        if change.action == "pause":
            consent = replace(patient.consent, helper_alerts=not value["paused"])
            await tx.patients.update(replace(patient, consent=consent))
            text = (
                t._("Alerts to your helpers are paused. Crisis help is still shown to you.")
                if value["paused"]
                else t._("Alerts to your helpers are on again.")
            )
            return [Reply(text)], None
        if change.action == "escalate":
            chosen = {**patient.preferences, "escalate_minutes": value["minutes"]}
            await tx.patients.update(replace(patient, preferences=chosen))
            return [Reply(t._("Saved."))], None
        try:
            helper = await tx.helpers.get(patient.id, str(value["helper"]))
        except NotFound:
            return [info_gone(t)], None
        if helper.state is HelperState.REMOVED:
            return [info_gone(t)], None
        if change.action == "reinvite":
            if helper.state is not HelperState.INVITED:
                return [info_gone(t)], None
            return [await self._invitation(tx, patient, helper, now, channel)], None
        if change.action == "remove":
            return [await self._remove(tx, patient, helper, now)], None
        prefs = HelperPrefs.of(helper)
        if change.action == "run" and value["n"] in MISSED_RUN_CHOICES:
            prefs = replace(prefs, missed_run=int(value["n"]))
        elif change.action == "toggle" and value["switch"] in flow.SWITCHES:
            prefs = prefs.toggled(str(value["switch"]))
        await tx.helpers.set_permissions(patient.id, helper.id, prefs.to_permissions())
        if prefs.weekly and helper.summary_at is None:
            await tx.helpers.schedule_summary(patient.id, helper.id, now + SUMMARY_EVERY)
        elif not prefs.weekly and helper.summary_at is not None:
            await tx.helpers.schedule_summary(patient.id, helper.id, None)
        return [], await self.menu(tx, patient, now, focus=helper.id)

    async def _invitation(
        self,
        tx: Repositories,
        patient: Patient,
        helper: Helper,
        now: datetime,
        channel: ChannelSpec,
    ) -> Reply:
        """The invitation in the channel's form: a deep link and the code, or the code."""
        _, code = await tx.helpers.invite(patient.id, helper.id, expires_at=now + INVITE_VALID)
        t = translator(patient.language)
        lines = [t._("Send this to {name}. It works once, for 24 hours.", name=helper.alias)]
        link = channel.invite_link(f"{START_PREFIX}{code}")
        if link is not None:
            lines.append(link)
            lines.append(t._("Or they can send me this message:"))
        else:
            lines.append(t._("They send me this message:"))
        lines.append(f"/join {format_code(code)}")
        lines.append(t._("When they accept, I will ask you to confirm it is them."))
        return Reply("\n\n".join(lines))

    async def _remove(
        self, tx: Repositories, patient: Patient, helper: Helper, now: datetime
    ) -> Reply:
        """Remove at once (queued alerts deleted); a short goodbye goes to the helper's
        account directly, since their role no longer has one."""
        t = translator(patient.language)
        gone = await tx.helpers.remove(patient.id, helper.id)
        if gone.state in (HelperState.ACTIVE, HelperState.ACCEPTED) and gone.address:
            prefs = HelperPrefs.of(gone)
            ht = translator(prefs.language or patient.language)
            text = ht._(
                "{alias} has removed you as their helper. You will get no more messages about "
                "them. Thank you for your support.",
                alias=shown_name(prefs, patient),
            )
            await tx.outbox.enqueue(_direct(patient.id, gone, f"removed:{helper.id}", text, now))
        return Reply(t._("{name} is no longer your helper.", name=helper.alias))


async def _current(tx: Repositories, patient_id: str) -> list[Helper]:
    """The patient's helpers not removed: invited, accepted or active (at most 3)."""
    return [
        h for h in await tx.helpers.for_patient(patient_id) if h.state is not HelperState.REMOVED
    ]


def _ask_patient(patient: Patient, helper: Helper, phrase: tuple[int, ...]) -> Payload:
    """The question to the patient, with the words to compare: never the account's name,
    which anyone can copy."""
    t = translator(patient.language)
    text = t._(
        "Someone accepted your invitation for {name}. Before you link them, check that it "
        "really is {name}: call or meet them and ask which words I showed them. They should "
        "say:\n\n{words}\n\nLink them only if the words match. A name or a photo can be "
        "copied; these words are shown only to the account that accepted.",
        name=helper.alias,
        words=check_phrase.say(t, phrase),
    )
    choices = (
        (Choice(t._("The words match: link them"), CONFIRM, helper.id),),
        (Choice(t._("No, that is not them"), REJECT, helper.id),),
    )
    return to_payload(Reply(text, choices))


def _notice(
    patient_id: str, recipient: str, key: str, payload: Payload, now: datetime
) -> OutboxMessage:
    return OutboxMessage(
        patient_id=patient_id,
        recipient=recipient,
        kind=OutboxKind.NOTICE.value,
        payload=payload.to_dict(),
        dedupe_key=f"notice:{key}",
        not_before=now,
        priority=int(OutboxKind.NOTICE.priority),
    )


def _direct(patient_id: str, helper: Helper, key: str, text: str, now: datetime) -> OutboxMessage:
    """A last message to an account whose role is gone: addressed to the account itself,
    since the helper row no longer holds it."""
    message = _notice(patient_id, DIRECT, key, Payload.message(text), now)
    if helper.channel is None or helper.address is None:
        return message
    return replace(message, to=Address(helper.channel, helper.address, helper.chat))


def _outcome_text(t: Translator, outcome: Outcome, name: str) -> str:
    if outcome is Outcome.TAKEN:
        return t._(
            "Thank you for reaching out to {alias}. No other helper will be asked.", alias=name
        )
    if outcome is Outcome.ALREADY:
        return t._("Another helper is already reaching out to {alias}. Thank you.", alias=name)
    if outcome is Outcome.PASSED:
        return t._("Thank you for telling me. I passed this on to another helper.")
    if outcome is Outcome.NOBODY:
        return t._("There is no other helper to pass this to. If you can, please try again later.")
    if outcome is Outcome.OVER:
        return t._("This alert is over.")
    return t._("One moment, I was still answering your last message. Please try again.")


def helper_help(t: Translator) -> Reply:
    """For someone who helps others but has no treatment of their own here."""
    return Reply(
        "\n".join(
            [
                t._("You are a helper. Here is what you can do:"),
                "/patients – " + t._("The people you help, and their doses today"),
                "/status – " + t._("The last 7 days of one of them"),
                "/leave – " + t._("Stop being a helper"),
                "/start – " + t._("Set up reminders for your own treatment"),
            ]
        )
    )


def not_helping(t: Translator) -> Reply:
    return Reply(
        t._(
            "You are not helping anyone yet. If someone invited you, open their link or send "
            "/join with their code."
        )
    )


def not_for_you(t: Translator) -> Reply:
    return Reply(t._("This is not something I can show you."))


def info_gone(t: Translator) -> Reply:
    return Reply(t._("That helper is no longer on your list."))
