"""Set-up and settings made for a channel whose every message others read on the way (SMS):
discreet from the first question, the time zone from the number, no plain wording offered.

The flows are pure, so these drive them directly, in every language and for every regimen;
`tests/sms/test_every_sms.py` drives the same set-up by SMS through the fake phone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.dialogue.choices import CANCEL, OPT, Picked
from bot.dialogue.conversation import Conversation
from bot.dialogue.messages import Inbound, Kind, Reply
from bot.flows import onboarding
from bot.flows import settings as settings_flow
from bot.flows.onboarding.schedule import _regimen_slug
from bot.flows.onboarding.setup import Setup
from bot.i18n import LOCALES, translator
from bot.sms.channel import sms_spec
from bot.sms.phone import zones_of
from bot.sms.render import ELLIPSIS, Option, render
from bot.sms.segments import segments
from tests.bot.test_discreet import forbidden_in
from treatment.catalogue import load_catalogue

NOW = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # 09:00 in Seoul, 08:00 in Shanghai


def pick(arg: str) -> Inbound:
    return Inbound("sms", "+8613800138000", "+8613800138000", Kind.PICK, pick=Picked(OPT, arg))


def typed(text: str) -> Inbound:
    return Inbound.from_text("sms", "+8613800138000", "+8613800138000", text)


def shown(replies: list[Reply]) -> list[str]:
    return [r.text for r in replies] + [c.label for r in replies for c in r.all_choices()]


class SetUp:
    """One set-up conversation; everything it showed."""

    def __init__(self, language: str, zones: tuple[str, ...] = ("Asia/Shanghai",)) -> None:
        turn = onboarding.begin(NOW, language, discreet_only=True, zones=zones)
        self.conversation: Conversation | None = turn.conversation
        self.seen = shown(turn.replies)
        self.last = turn.replies
        self.outcome: Setup | None = None

    def answer(self, event: Inbound) -> list[Reply]:
        assert self.conversation is not None
        turn = onboarding.handle(self.conversation, event, NOW)
        self.conversation, self.last = turn.conversation, turn.replies
        self.seen += shown(turn.replies)
        if turn.outcome is not None:
            self.outcome = turn.outcome
        return turn.replies

    def options(self) -> list[str]:
        return [c.arg for r in self.last for c in r.all_choices() if c.verb == OPT]

    @property
    def step(self) -> str:
        assert self.conversation is not None
        return self.conversation.step


def through(language: str, regimen: str, cover: str = "vitamins") -> SetUp:
    """Set-up to its summary, answering each question as a patient would."""
    flow = SetUp(language)
    flow.answer(pick("yes"))
    flow.answer(typed("Mina"))
    flow.answer(pick("yes"))  # the zone of the number
    flow.answer(pick(_regimen_slug(regimen)))
    flow.answer(pick("today"))
    times = ", ".join(["08:00", "20:00"][: load_catalogue().get(regimen).doses_per_day])
    flow.answer(typed(times))
    for _ in range(3):
        if flow.step == "discreet":
            break
        if flow.step == "weight":
            flow.answer(typed("52"))
        elif flow.step == "products":
            flow.answer(pick(flow.options()[0]))
        elif flow.step == "earlier":
            flow.answer(pick("all"))
    assert flow.step == "discreet", flow.step
    flow.answer(pick(cover))
    assert flow.step == "confirm"
    return flow


@pytest.mark.parametrize("language", LOCALES)
@pytest.mark.parametrize("regimen", [r.id for r in load_catalogue()])
def test_set_up_names_no_illness_or_drug_for_any_regimen(language: str, regimen: str) -> None:
    flow = through(language, regimen)
    leaks = {text: forbidden_in(text, language[:2]) for text in flow.seen}
    assert {text: found for text, found in leaks.items() if found} == {}
    flow.answer(pick("start"))
    assert flow.outcome is not None and flow.outcome.discreet
    assert flow.outcome.zone == "Asia/Shanghai" and flow.outcome.regimen_id == regimen


@pytest.mark.parametrize("language", LOCALES)
def test_plain_wording_is_never_offered_and_the_cover_word_is_asked(language: str) -> None:
    flow = through(language, "2HRZE/4HR", cover="none")
    assert "off" not in flow.options()
    everything = "\n".join(flow.seen)
    t = translator(language)
    assert t._("Plain wording") not in everything
    assert t._("Discreet mode: off") not in everything
    assert t._("Name in my texts: none") in everything
    typed_cover = SetUp(language)
    typed_cover.conversation = flow.conversation.at("discreet", NOW)  # type: ignore[union-attr]
    typed_cover.answer(typed("Plain wording"))  # a typed word is a cover word, never "off"
    typed_cover.answer(pick("start"))
    assert typed_cover.outcome is not None and typed_cover.outcome.discreet


@pytest.mark.parametrize("language", LOCALES)
def test_every_set_up_text_is_read_whole_within_the_cap(language: str) -> None:
    """Nothing is cut off with "..."; only the list of every plan is too long for one text,
    and goes over several, each within the cap, numbered on."""
    spec = sms_spec()
    for regimen in ("2HRZE/4HR", "BPaLM", "3HP"):
        flow = SetUp(language, zones=zones_of("+79161234567"))
        replies = list(flow.last)
        for event in (pick("yes"), typed("Mina")):
            replies += flow.answer(event)
        replies += flow.answer(pick("other"))
        replies += flow.answer(pick("Asia.Shanghai"))
        replies += flow.answer(pick(_regimen_slug(regimen)))
        for reply in replies:
            options = [Option(c.label, c.payload) for c in reply.all_choices()]
            sms = render(reply.text, options, spec.length.limit)
            assert ELLIPSIS not in sms.text, sms.text
            assert all(segments(part) <= spec.length.limit for part in sms.parts)
            if len(options) < len(load_catalogue()):
                assert len(sms.parts) == 1, (reply.text, sms.segments)


def test_the_zone_of_a_number_is_confirmed_with_yes_or_left_for_another() -> None:
    flow = SetUp("en")
    flow.answer(pick("yes"))
    flow.answer(typed("Mina"))
    assert flow.step == "zone_guess"
    question = flow.last[0].text.replace("\u202f", " ")
    assert "Is it 8:00 AM where you are (Shanghai time)?" in question
    assert flow.options() == ["yes", "other"]
    flow.answer(pick("other"))
    assert flow.step == "zone"
    flow.answer(pick("Asia.Seoul"))
    assert flow.conversation is not None and flow.conversation.data["zone"] == "Asia/Seoul"


def test_a_number_with_several_zones_offers_a_short_numbered_list() -> None:
    zones = zones_of("+61412345678")  # an Australian mobile: every Australian zone
    assert len(zones) > 6
    flow = SetUp("en", zones=zones)
    flow.answer(pick("yes"))
    flow.answer(typed("Mina"))
    options = flow.options()
    assert len(options) == 7 and options[-1] == "other"  # six zones, then another place
    flow.answer(pick(options[1]))
    assert flow.step == "regimen"
    assert flow.conversation is not None
    assert flow.conversation.data["zone"] == options[1].replace(".", "/")
    # A zone that was not offered is not taken, even if it is real.
    other = SetUp("en", zones=zones)
    other.answer(pick("yes"))
    other.answer(typed("Mina"))
    other.answer(pick("Asia.Seoul"))
    assert other.step == "zone_guess"


def test_a_typed_place_answers_the_zone_guess_and_nonsense_is_asked_again() -> None:
    flow = SetUp("en")
    flow.answer(pick("yes"))
    flow.answer(typed("Mina"))
    flow.answer(typed("Seoul"))
    assert flow.step == "regimen"
    assert flow.conversation is not None and flow.conversation.data["zone"] == "Asia/Seoul"
    again = SetUp("en")
    again.answer(pick("yes"))
    again.answer(typed("Mina"))
    again.answer(typed("Atlantis"))
    assert again.step == "zone_guess"


def test_a_number_without_a_known_zone_gets_the_usual_question() -> None:
    assert zones_of("+447700900123") == ()  # phonenumbers says "Etc/Unknown"
    assert zones_of("not a number") == ()
    flow = SetUp("en", zones=())
    flow.answer(pick("yes"))
    flow.answer(typed("Mina"))
    assert flow.step == "zone"


def test_starting_over_keeps_the_channel_discreet() -> None:
    flow = through("en", "2HRZE/4HR")
    flow.answer(pick("restart"))
    assert flow.step == "alias"
    flow.answer(typed("Mina"))
    assert flow.step == "zone_guess"
    assert flow.conversation is not None and flow.conversation.data["discreet_only"]


def test_cancel_says_nothing_of_a_telegram_command_on_sms() -> None:
    from bot.sms.texts import name_keywords

    flow = SetUp("zh_Hans")
    assert flow.conversation is not None
    turn = onboarding.handle(
        flow.conversation,
        Inbound("sms", "u", "u", Kind.PICK, pick=Picked(CANCEL)),
        NOW,
    )
    assert "/start" in turn.replies[0].text  # the dialogue's words, for every channel
    assert name_keywords(turn.replies[0].text, "zh_Hans").endswith("请发送 开始。")
    assert "/" not in name_keywords(turn.replies[0].text, "zh_Hans")


@given(st.text(max_size=60))
def test_any_typed_answer_to_the_zone_guess_is_read_without_error(text: str) -> None:
    flow = SetUp("ko", zones=("Asia/Seoul", "Asia/Tokyo"))
    flow.answer(pick("yes"))
    flow.answer(typed("Mina"))
    flow.answer(typed(text))
    assert flow.step in ("zone_guess", "regimen")


@pytest.mark.parametrize("language", LOCALES)
def test_settings_on_sms_change_only_the_cover_word_and_offer_no_deleting(language: str) -> None:
    t = translator(language)
    turn = settings_flow.begin(
        NOW, language, 1, "2HRZE/4HR", discreet_only=True, deletes=sms_spec().deletes
    )
    assert turn.conversation is not None
    menu = [c.arg for r in turn.replies for c in r.all_choices()]
    assert "delete_after" not in menu and "discreet" in menu
    moved = settings_flow.handle(turn.conversation, pick("discreet"), NOW)
    assert moved.conversation is not None and moved.conversation.step == "cover"
    labels = [c.label for r in moved.replies for c in r.all_choices()]
    assert t._("Plain wording") not in labels
    products = settings_flow.handle(turn.conversation, pick("products"), NOW)
    for text in shown(products.replies):
        assert forbidden_in(text, language[:2]) == [], text
    # On Telegram, both are there as before.
    telegram = settings_flow.begin(NOW, language, 1, "2HRZE/4HR")
    assert "delete_after" in [c.arg for r in telegram.replies for c in r.all_choices()]
    assert telegram.conversation is not None
    plain = settings_flow.handle(telegram.conversation, pick("discreet"), NOW)
    assert t._("Plain wording") in [c.label for r in plain.replies for c in r.all_choices()]


def test_set_up_is_not_discreet_only_on_telegram() -> None:
    turn = onboarding.begin(NOW, "en")
    assert turn.conversation is not None
    assert "discreet_only" not in turn.conversation.data


def test_the_last_word_of_set_up_says_to_reply_by_number() -> None:
    flow = through("en", "2HRZE/4HR")
    replies = flow.answer(pick("start"))
    assert "reply 1 when you have taken your tablets" in replies[0].text
    assert "Press" not in replies[0].text
