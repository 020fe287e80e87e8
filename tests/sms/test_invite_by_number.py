"""A helper invites a person by phone number (ENROL by SMS, /enrol elsewhere): one text to the
number, nothing more unless they reply, no reminder before their own consent, STOP at once, and
a limit per helper. Over real HTTP through the fake phone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.i18n import translator
from storage.records import Helper
from storage.repositories.sms import FirstContact
from storage.store import Store
from tests.fakebotapi import fake_bot_api as fake_bot_api
from tests.sms.test_sms_e2e import NUMBERS, Phone, Rig, deliver, enrol
from tests.sms.test_sms_e2e import rig as rig

pytestmark = pytest.mark.asyncio

HELPER = "+12025550188"
NEW = ("+12025550171", "+12025550172", "+12025550173", "+12025550174")
CHINESE = "+8613700137000"


async def link(store: Store, patient_id: str, channel: str, address: str) -> Helper:
    """Invite, open, accept and confirm a helper at `address` on `channel`."""
    helper = await store.helpers.add(patient_id, alias="Jisoo", permissions={})
    now = store.context.clock()
    _, code = await store.helpers.invite(patient_id, helper.id, expires_at=now + timedelta(days=1))
    opened = await store.helpers.open(code, channel, address)
    assert opened is not None
    assert await store.helpers.accept(opened.invite.id, channel, address, address) is not None
    active = await store.helpers.confirm(patient_id, helper.id)
    assert active is not None
    return active


async def mina_with_sms_helper(rig: Rig) -> tuple[Phone, Phone]:
    mina = Phone(rig, NUMBERS["en"])
    await enrol(mina, "en")
    identity = await rig.world.store.identities.find("sms", mina.number)
    assert identity is not None
    await link(rig.world.store, identity.patient_id, "sms", HELPER)
    return mina, Phone(rig, HELPER)


async def test_a_helper_invites_a_number_once_and_it_hears_nothing_more(rig: Rig) -> None:
    _, jisoo = await mina_with_sms_helper(rig)
    invited = Phone(rig, NEW[0])
    await jisoo.text(f"ENROL {invited.number}")
    await deliver(rig)
    assert "one text from me" in jisoo.said()
    [invitation] = invited.inbox()
    assert "reply START" in invitation and "Reply STOP" in invitation
    assert "/" not in invitation
    await jisoo.text(f"enrol {invited.number}")  # asked again: the same answer, no second text
    await deliver(rig)
    assert "one text from me" in jisoo.said()
    # A week passes without a reply: nothing else ever reaches the number.
    await rig.world.travel(timedelta(days=7))
    await deliver(rig)
    assert invited.inbox() == [invitation]
    assert await rig.world.store.identities.find("sms", invited.number) is None


async def test_the_invited_person_sets_up_only_by_their_own_consent(rig: Rig) -> None:
    _, jisoo = await mina_with_sms_helper(rig)
    li = Phone(rig, CHINESE)
    await jisoo.text(f"ENROL {li.number}")
    await deliver(rig)
    [invitation] = li.inbox()
    assert "开始" in invitation and "停止" in invitation  # in the number's country's language
    await li.text("开始")
    t = translator("zh_Hans")
    assert t._("I agree") in li.last_menu()
    await li.choose(t._("No, thanks"))  # declines: nothing is kept, nothing more is sent
    assert await rig.world.store.identities.find("sms", li.number) is None
    await rig.world.travel(timedelta(days=2))
    await deliver(rig)
    assert len(li.inbox()) == 3  # the invitation, the consent question, the goodbye


async def test_stop_to_the_invitation_works_at_once(rig: Rig) -> None:
    _, jisoo = await mina_with_sms_helper(rig)
    invited = Phone(rig, NEW[0])
    await jisoo.text(f"ENROL {invited.number}")
    await deliver(rig)
    await invited.text("STOP")
    assert "no more messages" in invited.said()
    assert await rig.world.store.sms.stopped(invited.number)


async def test_a_helper_cannot_ask_for_many_numbers(rig: Rig) -> None:
    _, jisoo = await mina_with_sms_helper(rig)
    for number in NEW[:3]:
        await jisoo.text(f"ENROL {number}")
    await jisoo.text(f"ENROL {NEW[3]}")
    assert "3 numbers a day" in jisoo.said()
    await deliver(rig)
    assert Phone(rig, NEW[3]).inbox() == []
    assert all(len(Phone(rig, number).inbox()) == 1 for number in NEW[:3])
    await rig.world.travel(timedelta(days=1, minutes=1))
    await jisoo.text(f"ENROL {NEW[3]}")
    await deliver(rig)
    assert len(Phone(rig, NEW[3]).inbox()) == 1


async def test_nobody_else_can_make_the_bot_text_a_number(rig: Rig) -> None:
    """A stranger, and a patient who helps nobody, get no invitation sent for them."""
    mina = Phone(rig, NUMBERS["en"])
    await enrol(mina, "en")
    stranger, invited = Phone(rig, "+12025550166"), Phone(rig, NEW[0])
    await stranger.text(f"ENROL {invited.number}")
    await mina.text(f"ENROL {invited.number}")
    await deliver(rig)
    assert invited.inbox() == []
    assert len(stranger.inbox()) <= 1  # the daily greeting at most


async def test_the_answer_does_not_tell_whether_a_number_is_a_patients(rig: Rig) -> None:
    mina, jisoo = await mina_with_sms_helper(rig)
    before = len(mina.inbox())
    await jisoo.text(f"ENROL {mina.number}")
    known = jisoo.said()
    await jisoo.text(f"ENROL {NEW[1]}")
    assert jisoo.said() == known
    await deliver(rig)
    assert len(mina.inbox()) == before  # a patient is not invited again


async def test_a_telegram_helper_invites_by_enrol_and_bad_numbers_get_a_hint(rig: Rig) -> None:
    mina = Phone(rig, NUMBERS["en"])
    await enrol(mina, "en")
    identity = await rig.world.store.identities.find("sms", mina.number)
    assert identity is not None
    await link(rig.world.store, identity.patient_id, "telegram", "8001")
    jisoo = rig.world.person("8001")
    await jisoo.say("/enrol 12345")
    assert "country code" in jisoo.text()
    await jisoo.say("/enrol")
    assert "/enrol" in jisoo.text()
    await jisoo.say(f"/enrol {NEW[2]}")
    assert "one text from me" in jisoo.text()
    await deliver(rig)
    assert len(Phone(rig, NEW[2]).inbox()) == 1


async def test_asks_are_limited_and_forgotten_after_30_days(rig: Rig) -> None:
    """The repository's rules, with the clock: an ask counts towards the asker's limit, a number
    asked for within 30 days is not invited again, and asks older than that are deleted."""
    store, asker = rig.world.store, ("telegram", "8001")
    day = timedelta(days=1)
    assert await store.sms.first_contact(NEW[0], asker, limit=2, per=day) is FirstContact.NEW
    assert await store.sms.first_contact(NEW[0], asker, limit=2, per=day) is FirstContact.ALREADY
    assert await store.sms.first_contact(NEW[1], asker, limit=2, per=day) is FirstContact.LIMIT
    other = ("sms", HELPER)
    assert await store.sms.first_contact(NEW[0], other, limit=2, per=day) is FirstContact.ALREADY
    rig.clock.advance(timedelta(days=31))
    assert await store.sms.prune_first_contacts(rig.clock.now()) == 3
    assert await store.sms.first_contact(NEW[0], asker, limit=2, per=day) is FirstContact.NEW
