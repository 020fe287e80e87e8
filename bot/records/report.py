"""`/report`: the clinician's PDF, A4, one or two pages, in the language the patient picks.

Page one is the numbers a clinician asks for at a visit, most important first: the regimen and
its source, doses counted per phase against the required count, the projected end, adherence per
month, interruptions and what the rules say, side effects with the advice given, mood scores,
every weight given and the tablet counts over time. Page two is the treatment card
(`calendar.card_png`). The text is real text in an embedded subset of the Noto Sans CJK face of
the report's language, so it can be searched, copied and read back, and no glyph depends on the
reader's fonts.
"""

from __future__ import annotations

import copy
import functools
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import cast

from babel import Locale
from babel.dates import format_skeleton
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos
from fpdf.fonts import FontFace, SubsetMap, TTFFont

from bot.flows.regimen import history_lines
from bot.flows.visits import label
from bot.i18n import Translator
from bot.records import fonts
from bot.records.calendar import card_image
from bot.records.facts import Record
from bot.records.words import (
    LEVEL_ADVICE,
    LEVEL_NAMES,
    MOOD_INSTRUMENTS,
    PHQ2_NEGATIVE,
    PHQ2_POSITIVE,
    PHQ9_BANDS,
)
from bot.texts import N_, PHASE_NAMES, REASONS, REGIMEN_NAMES, SYMPTOM_LABELS
from storage.records import StockChange
from treatment.mood import mood_rules
from treatment.stock import Movement

FAMILY = "noto"
MARGIN_MM = 14
# The latest entries that fit page one; the export holds every one.
SIDE_EFFECT_ROWS = 5
MOOD_ROWS = 6
INTERRUPTION_ROWS = 6
WEIGHT_ROWS = 8
STOCK_ROWS = 6
STOCK_WORDS = {Movement.BOUGHT: N_("Bought"), Movement.RECOUNT: N_("Counted")}
VISIT_ROWS = 4
# Up to this many months a month a row; more (a drug-resistant course) two months a row.
MONTHS_ONE_COLUMN = 10
GREY = (232, 232, 232)
MIN_CARD_SCALE = 0.6


def report_pdf(record: Record, t: Translator) -> bytes:
    """The report as PDF bytes, worded by `t` (the report's language, not necessarily the
    patient's). Long histories keep their latest rows; the export holds every one."""
    pdf = _document(t.locale)
    pdf.add_page()
    _title(pdf, record, t)
    _treatment(pdf, record, t)
    _months(pdf, record, t)
    _interruptions(pdf, record, t)
    _side_effects(pdf, record, t)
    _moods(pdf, record, t)
    _weight_and_tablets(pdf, record, t)
    _visits(pdf, record, t)
    _calendar(pdf, record, t)
    return bytes(pdf.output())


def _calendar(pdf: FPDF, record: Record, t: Translator) -> None:
    """The treatment card below the rest if it fits there, else on a page of its own; on the
    second page it is made smaller to fit (down to `MIN_CARD_SCALE`), so the report stays
    two pages (a long course's card is as tall as most of a page)."""
    card = card_image(record, t)
    width = pdf.w - 2 * MARGIN_MM
    height = width * card.height / card.width
    heading = 12
    room = pdf.h - pdf.b_margin - pdf.get_y() - heading
    if height > room and (pdf.page > 1 and room >= height * MIN_CARD_SCALE):
        width, height = width * room / height, room
    elif height > room:
        pdf.add_page()
    _heading(pdf, t._("Calendar"))
    pdf.image(card, x=(pdf.w - width) / 2, w=width, h=height)


def _document(language: str) -> FPDF:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.set_auto_page_break(True, margin=MARGIN_MM)
    _add_font(pdf, language)
    pdf.set_font(FAMILY, size=10)
    pdf.set_lang({"ko": "ko", "zh_Hans": "zh-Hans"}.get(language, "en"))
    pdf.set_creator("tbbot")
    return pdf


@functools.cache
def _parsed_font(language: str) -> TTFFont:
    """The face's metrics, parsed once per process: reading the 65,535 glyph widths of a CJK
    face is a quarter of a second, more than laying out the whole report."""
    pdf = FPDF()
    pdf.add_font(FAMILY, fname=str(fonts.font_path()), collection_font_number=fonts.face(language))
    font = cast(TTFFont, pdf.fonts[FAMILY])
    # Each document opens its own fontTools font (see `_add_font`); the parsed tables of this
    # one would only hold tens of megabytes.
    font.ttfont = None
    return font


def _add_font(pdf: FPDF, language: str) -> None:
    """`pdf.add_font` without parsing the face again (fpdf2 2.8's `TTFFont`).

    The parsed metrics are shared and read only; what one document changes gets its own
    copy: the widths table (a defaultdict that grows on lookups of missing characters), the
    glyphs used, and the fontTools font, which the subsetter cuts down when the PDF is
    written, so it is opened again from the file (lazily: only the tables it reads).
    """
    parsed = _parsed_font(language)
    font = copy.copy(parsed)
    font.i = len(pdf.fonts) + 1
    widths = cast(defaultdict[int, float], parsed.cw)
    font.cw = defaultdict(widths.default_factory, widths)
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font.ttfont = TTFont(
        str(fonts.font_path()),
        recalcTimestamp=False,
        recalcBBoxes=False,
        fontNumber=fonts.face(language),
        lazy=True,
    )
    font.subset = SubsetMap(font)
    pdf.fonts[FAMILY] = font
    if font.is_cff and font.is_cid_keyed:
        pdf._set_min_pdf_version("1.6")


@functools.cache
def _wrap(language: str) -> WrapMode:
    # Chinese has no spaces between words: lines may break between any two characters.
    return WrapMode.CHAR if language.startswith("zh") else WrapMode.WORD


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(2)
    pdf.set_font(FAMILY, size=12.5)
    pdf.cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(0)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(1.5)
    pdf.set_font(FAMILY, size=9.5)


def _lines(pdf: FPDF, language: str, *lines: str) -> None:
    for line in lines:
        pdf.multi_cell(0, 4.5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode=_wrap(language))


def _table(
    pdf: FPDF,
    language: str,
    headings: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
) -> None:
    with pdf.table(
        col_widths=widths,
        headings_style=FontFace(emphasis="", fill_color=GREY),
        line_height=4.4,
        text_align="LEFT",
        wrapmode=_wrap(language),
        padding=0.6,
    ) as table:
        for cells in (headings, *rows):
            row = table.row()
            for text in cells:
                row.cell(text)
    pdf.ln(1)


def _month(t: Translator, year: int, month: int) -> str:
    return format_skeleton("yMMM", date(year, month, 1), locale=Locale.parse(t.locale))


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)}%"


def _title(pdf: FPDF, record: Record, t: Translator) -> None:
    pdf.set_font(FAMILY, size=18)
    pdf.cell(0, 10, t._("Treatment record"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, size=9.5)
    _lines(
        pdf,
        t.locale,
        t._(
            "Prepared on {date} for {alias}, from what they recorded day by day. "
            "Not a prescription: the regimen is the one their clinician gave.",
            date=t.date(record.today),
            alias=record.alias or "–",
        ),
    )


def _treatment(pdf: FPDF, record: Record, t: Translator) -> None:
    summary = record.summary
    regimen = record.regimen
    _heading(pdf, t._("Treatment"))
    name = t._(REGIMEN_NAMES[regimen.id]) if regimen.id in REGIMEN_NAMES else regimen.name
    lines = [
        *history_lines(t, record.segments, record.today),
        t._("Regimen: {name}", name=name),
        t._("Source: {source}", source=regimen.source or "–"),
        t._(
            "Started on {date}; doses at {times} ({zone})",
            date=t.date(record.start),
            times=", ".join(f"{at:%H:%M}" for at in record.times),
            zone=record.zone,
        ),
        t._(
            "Doses taken: {taken} of {required}",
            taken=summary.doses_taken,
            required=summary.doses_required,
        ),
    ]
    for phase in summary.phases:
        line = t._(
            "{phase}: {taken} of {required}",
            phase=t._(PHASE_NAMES.get(phase.name, phase.name)),
            taken=phase.doses_taken,
            required=phase.doses_required,
        )
        if phase.complete and phase.projected_end is not None:
            line += " · " + t._("completed on {date}", date=t.date(phase.projected_end))
        elif phase.projected_end is not None:
            line += " · " + t._("expected to end on {date}", date=t.date(phase.projected_end))
        lines.append(line)
    if summary.projected_completion is not None and not summary.complete:
        lines.append(
            t._("Last dose expected on: {date}", date=t.date(summary.projected_completion))
        )
    if summary.complete_by is not None:
        lines.append(t._("To be completed by: {date}", date=t.date(summary.complete_by)))
    lines.append(
        t._(
            "Doses taken when due: {week} (last 7 days), {month} (30 days), "
            "{whole} (since the start)",
            week=_percent(summary.adherence_7d),
            month=_percent(summary.adherence_30d),
            whole=_percent(summary.adherence_whole),
        )
    )
    _lines(pdf, t.locale, *lines)


def _months(pdf: FPDF, record: Record, t: Translator) -> None:
    _heading(pdf, t._("Doses per month"))
    headings = [
        t._("Month"),
        t._("Doses taken"),
        t._("of them late"),
        t._("Missed"),
        t._("Not recorded"),
        t._("Taken when due"),
    ]
    rows = [
        [
            _month(t, m.year, m.month),
            str(m.taken),
            str(m.late),
            str(m.missed),
            str(m.not_recorded),
            _percent(m.adherence),
        ]
        for m in record.calendar.months_counted
    ]
    widths: tuple[float, ...] = (30, 16, 18, 16, 18, 20)
    if len(rows) > MONTHS_ONE_COLUMN:
        # Side by side: the first half of the months on the left, the rest on the right.
        half = (len(rows) + 1) // 2
        blank = [""] * len(headings)
        rows = [rows[i] + (rows[half + i] if half + i < len(rows) else blank) for i in range(half)]
        headings = headings * 2
        widths = widths * 2
        pdf.set_font(FAMILY, size=8)
    _table(pdf, t.locale, headings, rows, widths)
    pdf.set_font(FAMILY, size=9.5)


def _interruptions(pdf: FPDF, record: Record, t: Translator) -> None:
    _heading(pdf, t._("Interruptions and what the rules say"))
    lapses = record.lapses[-INTERRUPTION_ROWS:]
    lines = []
    if not lapses:
        lines.append(t._("No dose was missed."))
    spans = []
    for lapse in lapses:
        if lapse.resumed is None:
            spans.append(
                t.ngettext(
                    "Since {start}: {n} day without a dose taken",
                    "Since {start}: {n} days without a dose taken",
                    lapse.days,
                    start=t.date(lapse.first_missed),
                )
            )
        else:
            spans.append(
                t.ngettext(
                    "{start} to {end}: {n} day without a dose taken",
                    "{start} to {end}: {n} days without a dose taken",
                    lapse.days,
                    start=t.date(lapse.first_missed),
                    end=t.date(lapse.resumed),
                )
            )
    if spans:
        lines.append(" · ".join(spans))
    hidden = len(record.lapses) - len(lapses)
    if hidden:
        lines.append(_earlier(t, hidden))
    for status in record.summary.statuses:
        if status.code.value in REASONS:
            until = (
                "" if status.until is None else t.moment(status.until.astimezone(record.now.tzinfo))
            )
            lines.append("→ " + t._(REASONS[status.code.value], until=until).replace("\u202f", " "))
    lines.append(
        t._(
            "Rules: ATS/CDC/IDSA 2016 (pocket guide, table 5); WHO 2022 (lost to follow-up, "
            "table 10.1). Decisions belong to the clinician."
        )
    )
    _lines(pdf, t.locale, *lines)


def _earlier(t: Translator, hidden: int) -> str:
    return t.ngettext(
        "… and {n} earlier entry: /export holds every one.",
        "… and {n} earlier entries: /export holds every one.",
        hidden,
    )


def _side_effects(pdf: FPDF, record: Record, t: Translator) -> None:
    _heading(pdf, t._("Side effects"))
    shown = record.side_effects[-SIDE_EFFECT_ROWS:]
    if not shown:
        _lines(pdf, t.locale, t._("None reported."))
        return
    rows = []
    for effect in shown:
        what = ", ".join(t._(SYMPTOM_LABELS.get(s, s)) for s in effect.symptoms)
        if effect.free_text:
            what += f" — “{effect.free_text}”"
        rows.append(
            [
                t.date(effect.at.date()),
                what,
                t._(LEVEL_NAMES[effect.level]),
                t._(LEVEL_ADVICE[effect.level]),
            ]
        )
    _table(
        pdf,
        t.locale,
        [t._("Date"), t._("Reported"), t._("Severity"), t._("Advice given")],
        rows,
        (24, 64, 38, 56),
    )
    hidden = len(record.side_effects) - len(shown)
    if hidden:
        _lines(pdf, t.locale, _earlier(t, hidden))


def _moods(pdf: FPDF, record: Record, t: Translator) -> None:
    _heading(pdf, t._("Mood check-ins (PHQ-2, PHQ-9)"))
    shown = record.moods[-MOOD_ROWS:]
    if not shown:
        _lines(pdf, t.locale, t._("None recorded."))
        return
    rules = mood_rules()
    rows = []
    for check in shown:
        if check.instrument == "phq9":
            top = rules.item_max * rules.phq9_items
            meaning = _band(t, rules.band(min(check.score, top)), top)
        else:
            top = rules.item_max * rules.phq2_items
            cutoff = rules.phq2_positive_at
            positive = check.score >= cutoff
            meaning = t._(PHQ2_POSITIVE if positive else PHQ2_NEGATIVE, cutoff=cutoff)
        rows.append(
            [
                t.date(check.at.date()),
                MOOD_INSTRUMENTS.get(check.instrument, check.instrument),
                f"{check.score} / {top}",
                meaning,
            ]
        )
    _table(
        pdf,
        t.locale,
        [t._("Date"), t._("Questionnaire"), t._("Score"), t._("Meaning")],
        rows,
        (30, 30, 24, 98),
    )
    hidden = len(record.moods) - len(shown)
    if hidden:
        _lines(pdf, t.locale, _earlier(t, hidden))


def _visits(pdf: FPDF, record: Record, t: Translator) -> None:
    """The visits and tests noted: every one to come, and the latest ones before today."""
    if not record.visits:
        return
    coming = [v for v in record.visits if v.at > record.now]
    past = [v for v in record.visits if v.at <= record.now][-VISIT_ROWS:]
    _heading(pdf, t._("Visits and tests"))
    lines = [label(t, v) for v in past] + [
        t._("{visit} (to come)", visit=label(t, v)) for v in coming
    ]
    _lines(pdf, t.locale, *lines)


def _band(t: Translator, name: str, top: int) -> str:
    """A PHQ-9 band with its score range, from the screening rules' own band starts."""
    starts = mood_rules().bands
    index = next(i for i, (_, band) in enumerate(starts) if band == name)
    low = starts[index][0]
    high = starts[index + 1][0] - 1 if index + 1 < len(starts) else top
    return f"{t._(PHQ9_BANDS[name])} ({low}–{high})"


def _weight_and_tablets(pdf: FPDF, record: Record, t: Translator) -> None:
    _heading(pdf, t._("Weight and tablets"))
    _weights(pdf, record, t)
    _tablets(pdf, record, t)


def _weights(pdf: FPDF, record: Record, t: Translator) -> None:
    """Every weight given (the latest `WEIGHT_ROWS` of them), on a line, with the change from
    the one before; and the weight the tablet counts follow, when the last one given is not
    it (the clinician not yet asked, or they kept the dose)."""
    weight = record.weight_kg
    if not record.weights:
        line = (
            t._("Weight: not given") if weight is None else t._("Weight: {kg} kg", kg=_kg(weight))
        )
        _lines(pdf, t.locale, line)
        return
    shown = []
    previous: float | None = None
    for entry in record.weights:
        kg = t._("{kg} kg", kg=_kg(entry.kg))
        change = "" if previous is None else f" ({round(entry.kg - previous, 1):+g})"
        shown.append(f"{t.date(entry.at.date())}: {kg}{change}")
        previous = entry.kg
    hidden = len(shown) - WEIGHT_ROWS
    lines = [t._("Weight given: {weights}", weights=" · ".join(shown[-WEIGHT_ROWS:]))]
    if hidden > 0:
        lines.append(_earlier(t, hidden))
    if weight is not None and weight != record.weights[-1].kg:
        lines.append(
            t._("Tablet counts follow {kg} kg, the weight they were last set for.", kg=_kg(weight))
        )
    _lines(pdf, t.locale, *lines)


def _tablets(pdf: FPDF, record: Record, t: Translator) -> None:
    """The tablet counts over time (doses in a row that used tablets as one line), then what
    is left now and how long it lasts."""
    rows = [_stock_row(t, run) for run in _runs(record.stock_changes)]
    shown = rows[-STOCK_ROWS:]
    if shown:
        _table(
            pdf,
            t.locale,
            [t._("Date"), t._("Tablets"), t._("What happened"), t._("Change"), t._("Left")],
            shown,
            (58, 28, 52, 22, 22),
        )
    lines = []
    if len(rows) > len(shown):
        lines.append(_earlier(t, len(rows) - len(shown)))
    if not record.stock or record.stock_counted_at is None:
        lines.append(t._("No tablet count recorded."))
    for product, count in sorted(record.stock.items()):
        days = record.stock_days_left.get(product)
        line = t.ngettext(
            "{product}: {n} tablet left",
            "{product}: {n} tablets left",
            count,
            product=product,
        )
        if days is not None:
            line += " · " + t.ngettext(
                "about {n} day at today's dose", "about {n} days at today's dose", days
            )
        lines.append(line)
    if record.stock and record.stock_counted_at is not None:
        lines.append(
            t._("Tablets last counted on {date}", date=t.date(record.stock_counted_at.date()))
        )
    _lines(pdf, t.locale, *lines)


def _runs(changes: Sequence[StockChange]) -> list[list[StockChange]]:
    """The changes in order, the doses that used one product in a row grouped together."""
    runs: list[list[StockChange]] = []
    for change in changes:
        last = runs[-1][-1] if runs else None
        if (
            last is not None
            and change.movement is Movement.USED
            and last.movement is Movement.USED
            and last.product == change.product
            and last.short == change.short
        ):
            runs[-1].append(change)
        else:
            runs.append([change])
    return runs


def _stock_row(t: Translator, run: Sequence[StockChange]) -> list[str]:
    first, last = run[0], run[-1]
    days = t.date(first.at.date())
    if last.at.date() != first.at.date():
        days += " – " + t.date(last.at.date())
    if first.movement is Movement.USED:
        what = t.ngettext("Used by {n} dose", "Used by {n} doses", len(run))
        if first.short:
            what += " · " + t._("fewer tablets than the count: please recount")
    else:
        what = t._(STOCK_WORDS[first.movement])
    change = sum(c.change for c in run)
    return [days, first.product, what, f"{change:+d}", str(last.left)]


def _kg(value: float) -> str:
    return format(round(value, 1), "g")
