"""`/stock`: tablets the patient has, bought and counted, per product they buy.

The flow asks; the dialogue counts. A number outside 0 to 10,000 tablets is refused with a
reason (a box of 10 million is a typing mistake; minus five is not a count).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.dialogue.choices import OPT, Choice
from bot.dialogue.conversation import Conversation
from bot.dialogue.messages import Inbound, Kind, Reply
from bot.flows.reminder import Wording
from bot.i18n import Translator, translator
from bot.parsing import ParseError, parse_count
from treatment.stock import MAX_TABLETS

FLOW = "stock"


@dataclass(frozen=True, slots=True)
class Change:
    product: str
    count: int
    bought: bool  # True: add `count`; False: the patient counted `count` left


@dataclass(frozen=True, slots=True)
class Turn:
    replies: list[Reply]
    conversation: Conversation | None
    change: Change | None = None


def label(t: Translator, wording: Wording, product: str, products: Sequence[str]) -> str:
    """A product as the patient reads it: its name, or in discreet mode the cover word (or
    "your pills"), numbered when the plan has several products."""
    if not wording.discreet:
        return product
    if len(products) <= 1 or product not in products:
        return wording.pills(t)
    return t._("{pills} no. {n}", pills=wording.pills(t), n=products.index(product) + 1)


def lasting(t: Translator, days: int) -> str:
    return t.ngettext("enough for about {n} day", "enough for about {n} days", days)


def status_lines(
    t: Translator,
    counts: Mapping[str, int],
    days_left: Mapping[str, int | None],
    wording: Wording,
    products: Sequence[str],
) -> list[str]:
    """One line per product counted: tablets left, and how long they last at today's use.
    Only the products of the plan now are shown: a count kept from an earlier phase is not."""
    lines = []
    for product, count in counts.items():
        if products and product not in products:
            continue
        tablets = t.ngettext(
            "{product}: {n} tablet",
            "{product}: {n} tablets",
            count,
            product=label(t, wording, product, products),
        )
        days = days_left.get(product)
        lines.append(tablets if days is None else f"{tablets}, {lasting(t, days)}")
    return lines


def refill_reply(
    t: Translator, wording: Wording, product: str, days: int, products: Sequence[str]
) -> Reply:
    """Time to buy more: said once when a count falls to the warning level."""
    return Reply(
        t.ngettext(
            "You have {product} for about {n} more day. Time to get more.",
            "You have {product} for about {n} more days. Time to get more.",
            days,
            product=label(t, wording, product, products),
        ),
        sensitive=True,
    )


def ran_out_reply(
    t: Translator, wording: Wording, short: Sequence[str], products: Sequence[str]
) -> Reply:
    """A dose used tablets the count did not have: ask for a recount, never invent one."""
    return Reply(
        t._(
            "By my count your {product} had run out, yet you took a dose. Please count what "
            "you have and tell me with /stock.",
            product=", ".join(label(t, wording, p, products) for p in short),
        )
    )


def begin(
    now: datetime,
    language: str,
    products: Sequence[str],
    counts: Mapping[str, int],
    days_left: Mapping[str, int | None],
    wording: Wording,
) -> Turn:
    t = translator(language)
    if not products:
        # Without a tablet count per dose (no weight yet, or "as prescribed") nothing can be
        # counted down, so nothing is offered that would only pretend to.
        return Turn(
            [
                Reply(
                    t._(
                        "I can count your tablets once I know how many you take per dose. Add "
                        "your weight in /settings, or ask your clinician how many tablets to take."
                    )
                )
            ],
            None,
        )
    conversation = Conversation(
        FLOW,
        "menu",
        {
            "language": language,
            "products": list(products),
            "discreet": wording.discreet,
            "cover": wording.cover,
        },
        now,
    )
    lines = status_lines(t, counts, days_left, wording, products) or [
        t._("You have not recorded any tablets yet.")
    ]
    head = Reply("\n".join([t._("Your tablets:"), *lines]), sensitive=True)
    return Turn([head, _ask(conversation)], conversation)


def handle(conversation: Conversation, event: Inbound, now: datetime) -> Turn:
    """Menu (bought or counted), then the product when there are several, then the number."""
    data = conversation.data
    t = translator(data["language"])
    option = event.option(_ask(conversation))
    if option == "close":
        return Turn([Reply(t._("Nothing changed."))], None)
    step = conversation.step
    if step == "menu" and option in ("bought", "counted"):
        moved = conversation.at("product", now, bought=option == "bought")
        if len(data["products"]) == 1:
            moved = moved.at("count", now, product=data["products"][0])
        return Turn([_ask(moved)], moved)
    if step == "product" and option is not None:
        moved = conversation.at("count", now, product=data["products"][int(option)])
        return Turn([_ask(moved)], moved)
    if step == "count" and event.kind is Kind.TEXT:
        low = 1 if data["bought"] else 0
        try:
            count = parse_count(event.text, low=low, high=MAX_TABLETS)
        except ParseError:
            problem = t._(
                "Please type a whole number of tablets from {low} to {high}.",
                low=low,
                high=MAX_TABLETS,
            )
            return Turn([Reply(problem), _ask(conversation)], conversation.at(step, now))
        return Turn([], None, Change(data["product"], count, data["bought"]))
    return Turn(
        [Reply(t._("Please choose one of the options.")), _ask(conversation)],
        conversation.at(step, now),
    )


def _ask(conversation: Conversation) -> Reply:
    data = conversation.data
    t = translator(data["language"])
    wording = Wording(bool(data.get("discreet")), data.get("cover"))
    products = data["products"]
    close = (Choice(t._("Close"), OPT, "close"),)
    if conversation.step == "menu":
        rows = (
            (Choice(t._("I bought tablets"), OPT, "bought"),),
            (Choice(t._("I counted what I have"), OPT, "counted"),),
            close,
        )
        return Reply(t._("What would you like to record?"), rows)
    if conversation.step == "product":
        # By position: a product name need not fit the button argument's characters.
        rows_list = [
            (Choice(label(t, wording, p, products), OPT, str(i)),) for i, p in enumerate(products)
        ]
        return Reply(t._("Which tablets?"), (*rows_list, close))
    name = label(t, wording, data["product"], products)
    if data.get("bought"):
        return Reply(t._("How many tablets of {product} did you buy?", product=name), (close,))
    return Reply(t._("How many tablets of {product} do you have now?", product=name), (close,))
