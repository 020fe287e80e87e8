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


def status_lines(
    t: Translator, counts: Mapping[str, int], days_left: Mapping[str, int | None]
) -> list[str]:
    lines = []
    for product, count in counts.items():
        days = days_left.get(product)
        if days is None:
            lines.append(
                t.ngettext(
                    "{product}: {n} tablet", "{product}: {n} tablets", count, product=product
                )
            )
        else:
            lines.append(
                t.ngettext(
                    "{product}: {n} tablet, enough for about {days} days",
                    "{product}: {n} tablets, enough for about {days} days",
                    count,
                    product=product,
                    days=days,
                )
            )
    return lines


def begin(
    now: datetime,
    language: str,
    products: Sequence[str],
    counts: Mapping[str, int],
    days_left: Mapping[str, int | None],
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
        FLOW, "menu", {"language": language, "products": list(products)}, now
    )
    lines = status_lines(t, counts, days_left) or [t._("You have not recorded any tablets yet.")]
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
        rows_list = [(Choice(p, OPT, str(i)),) for i, p in enumerate(data["products"])]
        return Reply(t._("Which tablets?"), (*rows_list, close))
    if data.get("bought"):
        return Reply(
            t._("How many {product} tablets did you buy?", product=data["product"]), (close,)
        )
    return Reply(
        t._("How many {product} tablets do you have now?", product=data["product"]), (close,)
    )
