"""The clinician's PDF, read back: the right numbers, dates and scores in every language,
every glyph in the embedded font, one or two A4 pages, small enough for a chat."""

from __future__ import annotations

import io
import logging
from datetime import date

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from bot.i18n import LOCALES, translator
from bot.records import fonts
from bot.records.report import report_pdf
from tests.records import scenario

A4_POINTS = (595.28, 841.89)


def _squeezed(text: str) -> str:
    # pypdf reads the font's two-byte codes one byte at a time (it knows only the named
    # Identity-H map, not the font's own code-to-CID map), so it puts a NUL or a space between
    # glyphs; the characters and their order are what the test checks.
    return "".join(text.replace("\x00", "").split())


@pytest.fixture(scope="module", params=LOCALES)
def rendered(request: pytest.FixtureRequest) -> tuple[str, bytes, list[str]]:
    language = request.param
    data = report_pdf(scenario.mina(language), translator(language))
    reader = PdfReader(io.BytesIO(data))
    return language, data, [page.extract_text() for page in reader.pages]


def test_report_is_one_or_two_a4_pages_under_300_kb(rendered: tuple[str, bytes, list[str]]) -> None:
    _, data, pages = rendered
    reader = PdfReader(io.BytesIO(data))
    assert 1 <= len(pages) <= 2
    for page in reader.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(
            A4_POINTS, abs=0.5
        )
    assert len(data) < 300_000


def test_report_holds_the_counts_dates_and_scores(rendered: tuple[str, bytes, list[str]]) -> None:
    language, _, pages = rendered
    t = translator(language)
    text = _squeezed(pages[0])
    expected = [
        t._("Doses taken: {taken} of {required}", taken=132, required=273),
        t._("{phase}: {taken} of {required}", phase=t._("First phase"), taken=56, required=56),
        t._("{phase}: {taken} of {required}", phase=t._("Second phase"), taken=76, required=217),
        t._("Last dose expected on: {date}", date=t.date(scenario.LAST_DOSE)),
        t._("completed on {date}", date=t.date(scenario.INTENSIVE_ENDS)),
        t._(
            "Started on {date}; doses at {times} ({zone})",
            date=t.date(scenario.START),
            times="08:00",
            zone=scenario.ZONE,
        ),
        # The scripted misses: 10 March, 14 April (no reply), 20-21 May.
        t.ngettext(
            "{start} to {end}: {n} day without a dose taken",
            "{start} to {end}: {n} days without a dose taken",
            2,
            start=t.date(date(2026, 5, 20)),
            end=t.date(date(2026, 5, 22)),
        ),
        # PHQ-9 of 11 is moderate (Kroenke 2001: 10-14); PHQ-2 of 4 is at the cut-off of 3.
        "11 / 27",
        t._("Moderate symptoms") + " (10–14)",
        "4 / 6",
        t._("At or above the cut-off of {cutoff}", cutoff=3),
        t.date(scenario.RED_FLAG_DAY),
        t._("Serious: stop and get care today"),
        t._("Told to stop the medicine and get medical care the same day."),
    ]
    for line in expected:
        assert _squeezed(line) in text, line
    # Weight over time and the tablet counts may run onto page two, above the calendar.
    both = _squeezed("".join(pages))
    kg = {value: t._("{kg} kg", kg=value) for value in ("52", "51", "49.5", "55.5")}
    weights = [
        t._(
            "Weight given: {weights}",
            weights=f"{t.date(date(2026, 3, 2))}: {kg['52']} · "
            f"{t.date(date(2026, 4, 2))}: {kg['51']} (-1) · "
            f"{t.date(date(2026, 5, 3))}: {kg['49.5']} (-1.5) · "
            # Into the 55-70 kg band: the count follows 52 kg until the clinician is asked.
            f"{t.date(date(2026, 7, 3))}: {kg['55.5']} (+6)",
        ),
        t._("Tablet counts follow {kg} kg, the weight they were last set for.", kg="52"),
    ]
    used = "Used by {n} dose", "Used by {n} doses"
    tablets = [
        f"{t.date(date(2026, 4, 28))}HR{t._('Bought')}+200200",
        # 29 April to 15 June: 48 days less 2 missed and 5 paused, 3 tablets each.
        f"{t.date(date(2026, 4, 29))} – {t.date(date(2026, 6, 15))}HR{t.ngettext(*used, 41)}-12377",
        f"{t.date(date(2026, 6, 15))}HR{t._('Bought')}+60137",
        f"{t.date(date(2026, 7, 1))}HR{t._('Counted')}+998",
        f"{t.date(date(2026, 7, 2))} – {t.date(date(2026, 7, 20))}HR{t.ngettext(*used, 19)}-5741",
        t.ngettext("{product}: {n} tablet left", "{product}: {n} tablets left", 41, product="HR"),
        t._("Tablets last counted on {date}", date=t.date(date(2026, 7, 1))),
    ]
    for line in [*weights, *tablets]:
        assert _squeezed(line) in both, line
    # Months as rows: March 29 taken, 1 missed (97%); May 29 taken, 2 missed (94%).
    assert _squeezed("29 0 1 0 97%") in text
    assert _squeezed("29 0 2 0 94%") in text
    assert _squeezed("29 1 0 1 97%") in text  # April: one late, one not recorded


def test_report_has_no_missing_glyph(
    rendered: tuple[str, bytes, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    language, _, pages = rendered
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        report_pdf(scenario.mina(language), translator(language))
    assert not [r for r in caplog.records if "missing" in r.getMessage()]
    face = TTFont(str(fonts.font_path()), fontNumber=fonts.face(language), lazy=True)
    covered = face.getBestCmap()
    used = {ch for page in pages for ch in _squeezed(page)}
    assert used and all(ord(ch) in covered for ch in used)
    if language != "en":
        assert any(ord(ch) > 0x3000 for ch in used)


def test_report_language_is_the_one_picked_not_the_patients() -> None:
    korean_patient = scenario.mina("ko")
    data = report_pdf(korean_patient, translator("en"))
    text = _squeezed(PdfReader(io.BytesIO(data)).pages[0].extract_text())
    assert _squeezed("Doses taken: 132 of 273") in text
    assert "민아" in text  # the nickname as the patient wrote it


@pytest.mark.parametrize("language", LOCALES)
def test_a_24_month_course_still_fits_two_pages(language: str) -> None:
    record = scenario.long_course(24, language)
    data = report_pdf(record, translator(language))
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 2 and len(data) < 300_000
    first = _squeezed(reader.pages[0].extract_text())
    t = translator(language)
    # 720 daily doses, all taken by the end; the latest months in the right-hand column.
    assert _squeezed(t._("Doses taken: {taken} of {required}", taken=720, required=720)) in first
    assert len(record.calendar.months_counted) == 28
    last = record.calendar.months_counted[-1]
    assert _squeezed(f"{last.taken} {last.late} {last.missed} {last.not_recorded}") in first
