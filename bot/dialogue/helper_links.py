"""Linking a helper, in order:

1. The patient names the helper and the name the helper will see (`/helper`); an invitation
   code is made (single use, 24 hours) and shown in the form the patient's channel takes
   (`invitation`): a deep link and the code, or the code to type.
2. The helper opens the link or sends ``/join CODE`` (5 tries per chat per hour), reads what
   the role means and accepts (`join`, `accept`). The first account to open an invitation
   holds it: only it can accept, and a second account opening it voids it (the patient is
   told, `tell_voided`).
3. The patient is asked to confirm, with a few words both sides are shown
   (`bot.check_phrase`) and compare by voice, never with the account's name, which anyone can
   copy (`confirm`); only then is the helper linked and told so. Until then, nothing about the
   patient reaches them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from bot import check_phrase
from bot.compose import shown_name, to_payload
from bot.dialogue.choices import Choice
from bot.dialogue.helper_common import (
    CODE_TRIES,
    CODE_TRIES_PER,
    CONFIRM,
    DECLINE,
    INVITE_VALID,
    JOIN,
    REJECT,
    START_PREFIX,
    direct,
    format_code,
    not_for_you,
    notice,
)
from bot.dialogue.messages import Inbound, Reply
from bot.i18n import Translator, negotiate, translator
from scheduler.alerts import (
    HelperPrefs,
)
from scheduler.channels import ChannelSpec
from scheduler.outbox import Payload
from storage.errors import NotFound
from storage.records import (
    PATIENT,
    Helper,
    HelperState,
    OpenedInvite,
    Patient,
    helper_recipient,
)
from storage.store import Repositories

if TYPE_CHECKING:
    from bot.dialogue.helpers import HelperDesk


async def join(desk: HelperDesk, event: Inbound, code: str, t: Translator) -> list[Reply]:
    """Steps 2 of the module docstring: the code, then what the role means."""
    if not code.strip():
        return [Reply(t._("Please send /join followed by the code you were given."))]
    if not await desk.store.helpers.try_code(
        event.channel,
        event.user,
        limit=CODE_TRIES,
        per=CODE_TRIES_PER,
    ):
        return [Reply(t._("Too many tries. Please wait an hour, then try again."))]
    async with desk.store.transaction() as tx:
        opened = await tx.helpers.open(code, event.channel, event.user)
        if opened is not None and opened.voided:
            await tell_voided(desk, tx, opened)
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
        desk.poke()
        return [
            Reply(
                t._(
                    "Another account had already opened this invitation, so I cancelled it "
                    "to keep it safe. Nothing was shared. Please ask the person who invited "
                    "you for a new one."
                )
            )
        ]
    patient = await desk.store.patients.get(invite.patient_id)
    helper = await desk.store.helpers.get(invite.patient_id, invite.helper_id)
    name = shown_name(HelperPrefs.of(helper), patient)
    already = await desk.store.helpers.find_by_address(
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
    # Kept as sent to the invited helper: "I accept" edits this message, which then names
    # the patient until the patient removes the helper or is forgotten.
    return [Reply(text, choices, about=(helper,))]


async def tell_voided(desk: HelperDesk, tx: Repositories, opened: OpenedInvite) -> None:
    """A second account opened the invitation: the patient is told, and so is the first
    account if it had accepted, in the transaction of the void."""
    now = desk.clock.now()
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
        notice(patient.id, PATIENT, f"voided:{invite.id}", Payload.message(text), now)
    )
    first = opened.unlinked
    if first is not None and first.address:
        ft = translator(HelperPrefs.of(first).language or patient.language)
        bye = ft._(
            "The invitation you accepted was cancelled because another account opened "
            "it too. Nothing was shared. If you were invited, please ask for a new "
            "invitation."
        )
        await tx.outbox.enqueue(direct(patient.id, first, f"void:{invite.id}", bye, now))


async def accept(
    desk: HelperDesk, event: Inbound, invite_id: str, t: Translator, now: datetime
) -> list[Reply]:
    """The helper accepts: linked as accepted, and the patient is asked to confirm."""
    language = negotiate(event.language)
    async with desk.store.transaction() as tx:
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
            notice(
                patient.id,
                PATIENT,
                f"accepted:{invite_id}",
                ask_patient(patient, helper, phrase),
                now,
            )
        )
    desk.poke()
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


async def decline(
    desk: HelperDesk, event: Inbound, invite_id: str, t: Translator, now: datetime
) -> list[Reply]:
    """The helper says "No, thank you": the invited helper is forgotten at once (nothing of
    them stays with the patient's data), and the patient is told, in the same transaction."""
    async with desk.store.transaction() as tx:
        gone = await tx.helpers.decline(invite_id, event.channel, event.user)
        if gone is None:
            return [Reply(t._("This invitation is no longer open."), edit=True)]
        patient = await tx.patients.get(gone.patient_id)
        pt = translator(patient.language)
        text = pt._(
            "{name} said no to your invitation. Nothing was shared. /helper to invite "
            "someone else.",
            name=gone.alias,
        )
        await tx.outbox.enqueue(
            notice(patient.id, PATIENT, f"declined:{invite_id}", Payload.message(text), now)
        )
    desk.poke()
    return [Reply(t._("All right. Nothing was linked."), edit=True)]


async def confirm(
    desk: HelperDesk, event: Inbound, helper_id: str, yes: bool, now: datetime
) -> list[Reply]:
    """The patient's answer about an account that accepted their invitation."""
    identity = await desk.store.identities.find(event.channel, event.user)
    if identity is None:
        return [not_for_you(translator(negotiate(event.language)))]
    async with desk.store.transaction() as tx:
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
            await tx.outbox.enqueue(direct(patient.id, gone, f"unconfirmed:{helper.id}", text, now))
            return [
                Reply(t._("Cancelled: they are not linked. /helper to invite again."), edit=True)
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
            notice(
                patient.id,
                helper_recipient(helper.id),
                f"linked:{helper.id}",
                Payload.message(text),
                now,
            )
        )
    desk.poke()
    return [
        Reply(
            t._(
                "{name} is now your helper. /helper changes what they are told.",
                name=helper.alias,
            ),
            edit=True,
        )
    ]


async def invitation(
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


def ask_patient(patient: Patient, helper: Helper, phrase: tuple[int, ...]) -> Payload:
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
