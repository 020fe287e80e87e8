"""The calendar pictures: a month for `/progress`, the whole treatment card for the report.

Each kind of day has its own shape as well as its own colour (the Okabe-Ito palette, which
people with the common colour-vision deficiencies tell apart), so the picture still reads in
greyscale, on a faded printout or a phone screen in the sun:

    taken          filled disc          green
    taken late     half-filled disc     orange
    missed         thick cross          vermillion
    not recorded   hollow square        blue
    skipped        slash                purple
    paused         bar                  grey
    still to come  small ring           light grey
    no dose        nothing

A side effect adds a triangle in the corner of its day (filled black when serious); a thick
bar on a day's left edge is the start of a phase; a black frame is the projected last dose.
"""

from __future__ import annotations

import calendar as months
import io
from dataclasses import dataclass
from datetime import date

from babel import Locale
from babel.dates import format_skeleton, get_day_names
from PIL import Image, ImageDraw, ImageFont

from bot.i18n import Translator
from bot.records import fonts
from bot.records.facts import Record
from bot.records.words import (
    LAST_DOSE,
    MARK_LABELS,
    PHASE_BEGINS,
    SERIOUS_SIDE_EFFECT,
    SIDE_EFFECT,
    TODAY,
)
from treatment.calendar import Day, Mark
from treatment.triage import Level

RGB = tuple[int, int, int]

WHITE: RGB = (255, 255, 255)
INK: RGB = (0, 0, 0)
FAINT: RGB = (150, 150, 150)
NO_DOSE_FILL: RGB = (244, 244, 244)
GRID: RGB = (205, 205, 205)
COLOURS: dict[Mark, RGB] = {
    Mark.TAKEN: (0, 158, 115),
    Mark.LATE: (230, 159, 0),
    Mark.MISSED: (213, 94, 0),
    Mark.NOT_RECORDED: (0, 114, 178),
    Mark.SKIPPED: (204, 121, 167),
    Mark.PAUSED: (120, 120, 120),
    Mark.TO_COME: (185, 185, 185),
    Mark.NO_DOSE: NO_DOSE_FILL,
}
LEGEND_ITEMS = 12
"""The marks of `LEGEND_ORDER`, two side-effect triangles, phase, last dose and today."""
LEGEND_ORDER = (
    Mark.TAKEN,
    Mark.LATE,
    Mark.MISSED,
    Mark.NOT_RECORDED,
    Mark.SKIPPED,
    Mark.PAUSED,
    Mark.TO_COME,
)


def draw_mark(draw: ImageDraw.ImageDraw, mark: Mark, cx: float, cy: float, r: float) -> None:
    """The mark of a day centred on (cx, cy), within radius `r`."""
    colour = COLOURS[mark]
    box = (cx - r, cy - r, cx + r, cy + r)
    line = max(2, round(r / 4))
    if mark is Mark.TAKEN:
        draw.ellipse(box, fill=colour)
    elif mark is Mark.LATE:
        draw.ellipse(box, outline=colour, width=line)
        draw.pieslice(box, 90, 270, fill=colour)
    elif mark is Mark.MISSED:
        width = max(3, round(r / 2.6))
        draw.line((cx - r, cy - r, cx + r, cy + r), fill=colour, width=width)
        draw.line((cx - r, cy + r, cx + r, cy - r), fill=colour, width=width)
    elif mark is Mark.NOT_RECORDED:
        inset = r * 0.15
        draw.rectangle(
            (cx - r + inset, cy - r + inset, cx + r - inset, cy + r - inset),
            outline=colour,
            width=line,
        )
    elif mark is Mark.SKIPPED:
        draw.line((cx - r, cy + r, cx + r, cy - r), fill=colour, width=max(3, round(r / 3)))
    elif mark is Mark.PAUSED:
        draw.rectangle((cx - r, cy - r / 4, cx + r, cy + r / 4), fill=colour)
    elif mark is Mark.TO_COME:
        small = r * 0.45
        draw.ellipse(
            (cx - small, cy - small, cx + small, cy + small),
            outline=colour,
            width=max(2, round(r / 8)),
        )


def draw_side_effect(
    draw: ImageDraw.ImageDraw, level: Level, right: float, top: float, size: float
) -> None:
    """A triangle in a day's top-right corner: filled black for a serious side effect."""
    points = [(right - size, top), (right, top), (right, top + size)]
    if level is Level.RED_FLAG:
        draw.polygon(points, fill=INK)
    else:
        draw.polygon(points, outline=INK, width=max(2, round(size / 8)))


@dataclass(frozen=True)
class MonthLayout:
    """Where things are in a month picture, so that tests can look at known days."""

    year: int
    month: int
    first_weekday: int
    margin: int = 28
    cell_w: int = 100
    cell_h: int = 84
    grid_top: int = 150

    @property
    def width(self) -> int:
        return 2 * self.margin + 7 * self.cell_w

    @property
    def weeks(self) -> int:
        return len(months.Calendar(self.first_weekday).monthdayscalendar(self.year, self.month))

    @property
    def grid_bottom(self) -> int:
        return self.grid_top + self.weeks * self.cell_h

    def cell(self, day: date) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) of a day of this month."""
        first = date(self.year, self.month, 1)
        offset = (first.weekday() - self.first_weekday) % 7
        index = offset + day.day - 1
        left = self.margin + (index % 7) * self.cell_w
        top = self.grid_top + (index // 7) * self.cell_h
        return left, top, left + self.cell_w, top + self.cell_h

    def mark_centre(self, day: date) -> tuple[float, float]:
        left, top, right, _ = self.cell(day)
        return (left + right) / 2, top + self.cell_h * 0.58

    @property
    def mark_radius(self) -> float:
        return self.cell_h * 0.26


def month_layout(record: Record, year: int, month: int) -> MonthLayout:
    return MonthLayout(year, month, Locale.parse(record.language).first_week_day)


def month_png(record: Record, t: Translator, year: int, month: int) -> bytes:
    """One month of the treatment as a PNG, in the translator's language.

    1. Title (the month, in the language's own form) and the dose count so far.
    2. Weekday names from the language's first day of the week, then one cell a day: the day
       number, the day's mark, side effect, phase start, last dose and today.
    3. The legend, then the end dates in words.
    """
    layout = month_layout(record, year, month)
    locale = Locale.parse(t.locale)
    summary = record.summary
    legend_rows = -(-LEGEND_ITEMS // 2)
    height = layout.grid_bottom + 28 + legend_rows * 36 + 96
    image = Image.new("RGB", (layout.width, height), WHITE)
    draw = ImageDraw.Draw(image)
    title = fonts.pillow_font(t.locale, 34)
    body = fonts.pillow_font(t.locale, 20)
    small = fonts.pillow_font(t.locale, 17)
    draw.text(
        (layout.margin, 22),
        format_skeleton("yMMMM", date(year, month, 1), locale=locale),
        font=title,
        fill=INK,
    )
    draw.text(
        (layout.margin, 72),
        t._(
            "Doses taken: {taken} of {required}",
            taken=summary.doses_taken,
            required=summary.doses_required,
        ),
        font=body,
        fill=INK,
    )
    names = get_day_names("abbreviated", locale=locale)
    for column in range(7):
        weekday = (layout.first_weekday + column) % 7
        left = layout.margin + column * layout.cell_w
        draw.text(
            (left + layout.cell_w / 2, layout.grid_top - 14),
            names[weekday],
            font=small,
            fill=INK,
            anchor="ms",
        )
    for day_number in range(1, months.monthrange(year, month)[1] + 1):
        day = date(year, month, day_number)
        _draw_day(draw, layout, day, record.calendar.day(day), small, record.start)
    _draw_legend(draw, t, layout.margin, layout.grid_bottom + 28, layout.width, small)
    footer = layout.grid_bottom + 28 + legend_rows * 36 + 14
    for line in _end_lines(record, t):
        draw.text((layout.margin, footer), line, font=body, fill=INK)
        footer += 32
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _draw_day(
    draw: ImageDraw.ImageDraw,
    layout: MonthLayout,
    day: date,
    entry: Day | None,
    font: ImageFont.FreeTypeFont,
    start: date,
) -> None:
    left, top, right, bottom = layout.cell(day)
    fill = NO_DOSE_FILL if entry is not None and entry.mark is Mark.NO_DOSE else WHITE
    draw.rectangle((left, top, right, bottom), fill=fill, outline=GRID, width=1)
    number = str(day.day)
    if entry is not None and entry.today:
        draw.ellipse((left + 3, top + 3, left + 31, top + 31), fill=INK)
        draw.text((left + 17, top + 17), number, font=font, fill=WHITE, anchor="mm")
    else:
        colour = INK if entry is not None else FAINT
        draw.text((left + 17, top + 17), number, font=font, fill=colour, anchor="mm")
    if entry is None:
        return
    cx, cy = layout.mark_centre(day)
    draw_mark(draw, entry.mark, cx, cy, layout.mark_radius)
    if entry.side_effect is not None:
        draw_side_effect(draw, entry.side_effect, right - 4, top + 4, 20)
    if entry.phase_starts is not None and day != start:
        draw.rectangle((left, top, left + 6, bottom), fill=INK)
    if entry.last_dose:
        draw.rectangle((left + 2, top + 2, right - 2, bottom - 2), outline=INK, width=4)


def _draw_legend(
    draw: ImageDraw.ImageDraw,
    t: Translator,
    left: int,
    top: int,
    width: int,
    font: ImageFont.FreeTypeFont,
    *,
    scale: float = 1.0,
    today_underlined: bool = False,
    columns: int = 2,
) -> None:
    """The legend in two columns; `scale` 1 is the month picture's size. Today is a disc
    behind the day number, or (on the card, which shows no numbers) a line under the day."""
    column_w = (width - 2 * left) // columns

    def s(value: float) -> float:
        return value * scale

    items: list[tuple[str, object]] = [(t._(MARK_LABELS[m]), m) for m in LEGEND_ORDER]
    items += [
        (t._(SIDE_EFFECT), Level.SOON),
        (t._(SERIOUS_SIDE_EFFECT), Level.RED_FLAG),
        (t._(PHASE_BEGINS), "phase"),
        (t._(LAST_DOSE), "last"),
        (t._(TODAY), "today"),
    ]
    rows = -(-len(items) // columns)
    for index, (label, what) in enumerate(items):
        x = left + (index // rows) * column_w
        y = top + (index % rows) * s(36)
        cx, cy = x + s(16), y + s(14)
        if isinstance(what, Mark):
            draw_mark(draw, what, cx, cy, s(12))
        elif isinstance(what, Level):
            draw_side_effect(draw, what, cx + s(10), cy - s(10), s(20))
        elif what == "phase":
            draw.rectangle((cx - s(12), cy - s(14), cx - s(6), cy + s(14)), fill=INK)
        elif what == "last":
            draw.rectangle(
                (cx - s(14), cy - s(14), cx + s(14), cy + s(14)), outline=INK, width=round(s(4))
            )
        elif today_underlined:
            draw.rectangle((cx - s(14), cy + s(9), cx + s(14), cy + s(14)), fill=INK)
        else:
            draw.ellipse((cx - s(14), cy - s(14), cx + s(14), cy + s(14)), fill=INK)
        draw.text((x + s(40), cy), label, font=font, fill=INK, anchor="lm")


def _end_lines(record: Record, t: Translator) -> list[str]:
    summary = record.summary
    lines = []
    ends = summary.intensive_ends
    if ends is not None and not summary.complete and ends >= record.today:
        lines.append(t._("First phase ends around: {date}", date=t.date(ends)))
    if summary.projected_completion is not None and not summary.complete:
        lines.append(
            t._("Last dose expected on: {date}", date=t.date(summary.projected_completion))
        )
    return lines


@dataclass(frozen=True)
class CardLayout:
    """The treatment card: a row a month, a column a day of the month (as the WHO treatment
    card and programmes' paper cards lay it out), at `scale` times the base size."""

    months: tuple[tuple[int, int], ...]
    scale: int = 2
    label_w: int = 96
    cell: int = 26
    top: int = 30

    def px(self, value: float) -> int:
        return round(value * self.scale)

    @property
    def width(self) -> int:
        return self.px(self.label_w + 31 * self.cell + 8)

    def cell_box(self, day: date) -> tuple[int, int, int, int]:
        row = self.months.index((day.year, day.month))
        left = self.label_w + (day.day - 1) * self.cell
        top = self.top + row * self.cell
        return (
            self.px(left),
            self.px(top),
            self.px(left + self.cell),
            self.px(top + self.cell),
        )

    def mark_centre(self, day: date) -> tuple[float, float]:
        left, top, right, bottom = self.cell_box(day)
        return (left + right) / 2, (top + bottom) / 2

    @property
    def grid_bottom(self) -> int:
        return self.px(self.top + len(self.months) * self.cell)


CARD_LEGEND_COLUMNS = 3


def card_layout(record: Record) -> CardLayout:
    return CardLayout(tuple(record.calendar.months()))


def card_png(record: Record, t: Translator) -> bytes:
    """Every month of the treatment, a row each, with the legend below, as a PNG."""
    out = io.BytesIO()
    card_image(record, t).save(out, format="PNG", optimize=True)
    return out.getvalue()


def card_image(record: Record, t: Translator) -> Image.Image:
    """The treatment card as an image (the report embeds it without a PNG round trip)."""
    layout = card_layout(record)
    locale = Locale.parse(t.locale)
    px = layout.px
    legend_rows = -(-LEGEND_ITEMS // CARD_LEGEND_COLUMNS)
    height = layout.grid_bottom + px(16 + legend_rows * 22)
    image = Image.new("RGB", (layout.width, height), WHITE)
    draw = ImageDraw.Draw(image)
    small = fonts.pillow_font(t.locale, px(11))
    label = fonts.pillow_font(t.locale, px(12))
    for number in range(1, 32):
        left = px(layout.label_w + (number - 1) * layout.cell)
        draw.text(
            (left + px(layout.cell) / 2, px(layout.top - 8)),
            str(number),
            font=small,
            fill=INK,
            anchor="ms",
        )
    for year, month in layout.months:
        first = date(year, month, 1)
        _, top, _, bottom = layout.cell_box(first)
        draw.text(
            (px(4), (top + bottom) / 2),
            format_skeleton("yMMM", first, locale=locale),
            font=label,
            fill=INK,
            anchor="lm",
        )
        for number in range(1, 32):
            if number > months.monthrange(year, month)[1]:
                left = px(layout.label_w + (number - 1) * layout.cell)
                draw.rectangle((left, top, left + px(layout.cell), bottom), fill=GRID)
                continue
            day = date(year, month, number)
            _draw_card_day(draw, layout, day, record.calendar.day(day), record.start)
    _draw_legend(
        draw,
        t,
        px(8),
        layout.grid_bottom + px(10),
        layout.width,
        small,
        scale=layout.scale * 0.62,
        today_underlined=True,
        columns=CARD_LEGEND_COLUMNS,
    )
    return image


def _draw_card_day(
    draw: ImageDraw.ImageDraw, layout: CardLayout, day: date, entry: Day | None, start: date
) -> None:
    left, top, right, bottom = layout.cell_box(day)
    fill = NO_DOSE_FILL if entry is None or entry.mark is Mark.NO_DOSE else WHITE
    draw.rectangle((left, top, right, bottom), fill=fill, outline=GRID, width=1)
    if entry is None:
        return
    cx, cy = layout.mark_centre(day)
    draw_mark(draw, entry.mark, cx, cy, layout.px(layout.cell * 0.3))
    if entry.side_effect is not None:
        draw_side_effect(draw, entry.side_effect, right - 1, top + 1, layout.px(9))
    if entry.phase_starts is not None and day != start:
        draw.rectangle((left, top, left + layout.px(3), bottom), fill=INK)
    if entry.last_dose:
        draw.rectangle((left, top, right, bottom), outline=INK, width=layout.px(2))
    if entry.today:
        draw.line(
            (left, bottom - layout.px(2), right, bottom - layout.px(2)),
            fill=INK,
            width=layout.px(3),
        )
