"""The calendar pictures: the expected mark at known days, readable without colour, every
label's glyphs in the font, in each language."""

from __future__ import annotations

import io
import itertools
from datetime import date

import pytest
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw

from bot.i18n import LOCALES, translator
from bot.records import fonts
from bot.records.calendar import (
    COLOURS,
    INK,
    LEGEND_ORDER,
    WHITE,
    card_layout,
    card_png,
    draw_mark,
    month_layout,
    month_png,
)
from bot.records.words import LAST_DOSE, MARK_LABELS, PHASE_BEGINS, SIDE_EFFECT, TODAY
from tests.records import scenario
from treatment.calendar import Mark


def _image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.convert("RGB")


def _near(pixel: tuple[int, int, int], colour: tuple[int, int, int], slack: int = 40) -> bool:
    return all(abs(a - b) <= slack for a, b in zip(pixel, colour, strict=True))


@pytest.mark.parametrize("language", LOCALES)
def test_month_picture_marks_known_days(language: str) -> None:
    record = scenario.mina(language)
    t = translator(language)
    may = _image(month_png(record, t, 2026, 5))
    layout = month_layout(record, 2026, 5)
    r = layout.mark_radius

    def at(day: int, dx: float = 0, dy: float = 0) -> tuple[int, int, int]:
        cx, cy = layout.mark_centre(date(2026, 5, day))
        return may.getpixel((round(cx + dx), round(cy + dy)))  # type: ignore[return-value]

    assert _near(at(18), COLOURS[Mark.TAKEN])
    assert _near(at(20), COLOURS[Mark.MISSED]) and _near(at(21), COLOURS[Mark.MISSED])
    # The cross leaves the middle of each side of its cell blank; a disc would not.
    assert _near(at(20, dx=r * 0.9), WHITE)
    # 19 May: a serious side effect, a filled black triangle in the cell's top-right corner.
    _, top, right, _ = layout.cell(date(2026, 5, 19))
    assert _near(may.getpixel((right - 7, top + 7)), INK)  # type: ignore[arg-type]
    assert not _near(may.getpixel((right - 7, top + 7 + 40)), INK)  # type: ignore[arg-type]

    april = _image(month_png(record, t, 2026, 4))
    layout = month_layout(record, 2026, 4)

    def april_at(day: int, dx: float = 0, dy: float = 0) -> tuple[int, int, int]:
        cx, cy = layout.mark_centre(date(2026, 4, day))
        return april.getpixel((round(cx + dx), round(cy + dy)))  # type: ignore[return-value]

    # 2 April, taken late: the left half filled, the right half open.
    assert _near(april_at(2, dx=-r / 2), COLOURS[Mark.LATE])
    assert _near(april_at(2, dx=r / 2), WHITE)
    # 14 April, no answer: a hollow square, its edge coloured and its middle blank.
    assert _near(april_at(14), WHITE)
    assert _near(april_at(14, dx=-r * 0.8), COLOURS[Mark.NOT_RECORDED])
    # 29 April: the continuation phase begins, a black bar on the day's left edge.
    left, top, _, bottom = layout.cell(date(2026, 4, 29))
    assert _near(april.getpixel((left + 2, (top + bottom) // 2)), INK)  # type: ignore[arg-type]
    assert not _near(april.getpixel((left + 2 - layout.cell_w, (top + bottom) // 2)), INK)  # type: ignore[arg-type]

    june = _image(month_png(record, t, 2026, 6))
    layout = month_layout(record, 2026, 6)
    cx, cy = layout.mark_centre(date(2026, 6, 3))
    assert _near(june.getpixel((round(cx), round(cy))), COLOURS[Mark.PAUSED])  # type: ignore[arg-type]
    cx, cy = layout.mark_centre(date(2026, 6, 6))
    assert _near(june.getpixel((round(cx), round(cy))), COLOURS[Mark.TAKEN])  # type: ignore[arg-type]

    july = _image(month_png(record, t, 2026, 7))
    layout = month_layout(record, 2026, 7)
    # 20 July is today: its number sits on a black disc. 21 July is still to come: a ring.
    left, top, _, _ = layout.cell(date(2026, 7, 20))
    assert _near(july.getpixel((left + 6, top + 17)), INK)  # type: ignore[arg-type]
    cx, cy = layout.mark_centre(date(2026, 7, 21))
    assert _near(july.getpixel((round(cx), round(cy))), WHITE)  # type: ignore[arg-type]
    ring = layout.mark_radius * 0.45
    assert not _near(july.getpixel((round(cx - ring), round(cy))), WHITE, slack=20)  # type: ignore[arg-type]


def test_treatment_card_marks_known_days_and_the_last_dose() -> None:
    record = scenario.mina("zh_Hans")
    card = _image(card_png(record, translator("zh_Hans")))
    layout = card_layout(record)
    assert layout.months[0] == (2026, 3) and layout.months[-1] == (2026, 12)

    def at(day: date) -> tuple[int, int, int]:
        cx, cy = layout.mark_centre(day)
        return card.getpixel((round(cx), round(cy)))  # type: ignore[return-value]

    assert _near(at(date(2026, 3, 9)), COLOURS[Mark.TAKEN])
    assert _near(at(date(2026, 3, 10)), COLOURS[Mark.MISSED])
    assert _near(at(date(2026, 6, 2)), COLOURS[Mark.PAUSED])
    # 8 December, the projected last dose, is framed in black.
    left, top, _, bottom = layout.cell_box(scenario.LAST_DOSE)
    assert _near(card.getpixel((left + 1, (top + bottom) // 2)), INK)  # type: ignore[arg-type]
    left, top, _, bottom = layout.cell_box(date(2026, 12, 7))
    assert not _near(card.getpixel((left + 1, (top + bottom) // 2)), INK)  # type: ignore[arg-type]


def test_marks_differ_in_shape_not_only_in_colour() -> None:
    """Each mark drawn alone and turned to black and white differs from every other in a good
    share of its pixels: readable in greyscale and without telling colours apart."""
    shapes = {}
    for mark in LEGEND_ORDER:
        image = Image.new("RGB", (60, 60), WHITE)
        draw_mark(ImageDraw.Draw(image), mark, 30, 30, 24)
        grey = image.convert("L")
        shapes[mark] = [value < 235 for value in grey.tobytes()]
    for one, other in itertools.combinations(LEGEND_ORDER, 2):
        differing = sum(a != b for a, b in zip(shapes[one], shapes[other], strict=True))
        assert differing >= 150, (one, other, differing)


@pytest.mark.parametrize("language", LOCALES)
def test_every_label_of_the_picture_has_its_glyphs(language: str) -> None:
    t = translator(language)
    face = TTFont(str(fonts.font_path()), fontNumber=fonts.face(language), lazy=True)
    covered = face.getBestCmap()
    labels = [
        t._(label) for label in (*MARK_LABELS.values(), SIDE_EFFECT, PHASE_BEGINS, LAST_DOSE, TODAY)
    ]
    missing = {
        ch for label in labels for ch in label if not ch.isspace() and ord(ch) not in covered
    }
    assert not missing
