"""The records after a regimen switch and with visits noted: the report shows each regimen and
the visits, the CSV has a row per visit, the FHIR Bundle an Appointment per visit."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader

from bot.i18n import translator
from bot.records.export import csv_bytes, fhir_bytes
from bot.records.facts import Record, assemble
from bot.records.report import report_pdf
from scheduler.visits import Visit, VisitKind
from tests.records import scenario
from treatment.catalogue import load_catalogue
from treatment.switching import switched

SWITCH = date(2026, 4, 11)
VISITS = [
    Visit(VisitKind.SPUTUM, datetime(2026, 4, 28, 9, 30), scenario.ZONE),
    Visit(VisitKind.ECG, datetime(2026, 7, 24, 14, 0), scenario.ZONE),
]


def _squeezed(text: str) -> str:
    return "".join(text.split())


def switched_record(language: str = "en") -> Record:
    plan = switched(scenario.enrolment(), load_catalogue().get("BPaLM"), SWITCH)
    return assemble(
        scenario.patient(language),
        plan,
        scenario.NOW,
        events=scenario.events(plan, scenario.NOW, scenario.MISSED, scenario.NO_REPLY),
        visits=list(reversed(VISITS)),
    )


def test_each_regimen_followed_is_counted_on_its_own() -> None:
    record = switched_record()
    first, second = record.segments
    assert (first.regimen_id, first.start, first.end) == (
        "2HRZE/7HR",
        scenario.START,
        date(2026, 4, 10),
    )
    # 40 days, 1 missed (10 March): 39 taken, counted only in the first regimen.
    assert (first.doses_taken, first.doses_missed) == (39, 1)
    assert (second.regimen_id, second.start, second.end) == ("BPaLM", SWITCH, None)
    assert record.summary.regimen_id == "BPaLM"
    assert record.summary.doses_taken == second.doses_taken
    assert first.doses_taken + second.doses_taken == sum(
        1 for item in record.due if item.state.value == "taken"
    )


def test_the_report_shows_both_regimens_and_the_visits() -> None:
    for language in ("en", "ko", "zh_Hans"):
        data = report_pdf(switched_record(language), translator(language))
        pages = [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
        text = "".join("".join(pages).replace("\x00", "").split())
        t = translator(language)
        assert _squeezed(t._("Your treatment so far:")) in text
        assert _squeezed(t._("Visits and tests")) in text
        assert _squeezed(t._("Sputum test")) in text
        if language == "en":
            assert "39of273dosestaken" in text
            assert "(BPaLM)(now)" in text
            assert "(tocome)" in text


def test_the_csv_and_the_bundle_hold_every_visit() -> None:
    record = switched_record()
    rows = list(csv.DictReader(io.StringIO(csv_bytes(record).decode("utf-8-sig"))))
    visits = [r for r in rows if r["record"] == "visit"]
    assert [(v["time"], v["item"], v["outcome"]) for v in visits] == [
        ("2026-04-28T09:30:00+08:00", "sputum", "past"),
        ("2026-07-24T14:00:00+08:00", "ecg", "upcoming"),
    ]
    data = fhir_bytes(record)
    Bundle.model_validate(json.loads(data))
    appointments = [
        e["resource"]
        for e in json.loads(data)["entry"]
        if e["resource"]["resourceType"] == "Appointment"
    ]
    assert [a["start"] for a in appointments] == [
        "2026-04-28T09:30:00+08:00",
        "2026-07-24T14:00:00+08:00",
    ]
    assert appointments[1]["serviceType"][0]["text"] == "Electrocardiogram (ECG)"


def test_a_rule_with_a_time_names_the_time_in_the_report() -> None:
    record = switched_record()
    timed = [s for s in record.summary.statuses if s.until is not None]
    assert timed, "BPaLM's three-times-weekly bedaquiline gives a next-dose time"
    data = report_pdf(record, translator("en"))
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
    text = "".join("".join(pages).replace("\x00", "").split())
    assert "nolaterthan" not in text and "noearlierthan." not in text
    assert "noearlierthanJul" in text
