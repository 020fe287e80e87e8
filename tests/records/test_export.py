"""The patient's export: a FHIR Bundle that validates, whose doses are `/progress`'s, and a
CSV with a row for everything the bot holds."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter

from fhir.resources.R4B.bundle import Bundle

from bot.flows.progress import progress_reply
from bot.i18n import translator
from bot.records.export import CSV_COLUMNS, csv_bytes, fhir_bytes
from tests.records import scenario


def _resources(data: bytes, kind: str) -> list[dict]:  # type: ignore[type-arg]
    bundle = json.loads(data)
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_bundle_validates_and_is_an_importable_transaction() -> None:
    data = fhir_bytes(scenario.mina("ko"))
    bundle = Bundle.model_validate(json.loads(data))
    assert bundle.type == "transaction"
    urls = {entry.fullUrl for entry in bundle.entry}
    assert len(urls) == len(bundle.entry) and all(u.startswith("urn:uuid:") for u in urls)
    for entry in bundle.entry:
        assert entry.request.method == "POST"
        assert entry.request.url == entry.resource.get_resource_type()
    # Every reference points at a resource of the same Bundle.
    text = data.decode()
    for reference in {part.split('"')[0] for part in text.split('"reference": "')[1:]}:
        assert reference in urls


def test_bundle_doses_equal_progress() -> None:
    record = scenario.mina("en")
    data = fhir_bytes(record)
    doses = _resources(data, "MedicationAdministration")
    statuses = Counter(d["status"] for d in doses)
    progress = progress_reply(translator("en"), record.summary, scenario.ZONE).text
    assert f"Doses taken: {statuses['completed']} of {scenario.REQUIRED}" in progress
    assert statuses == {"completed": scenario.TAKEN, "not-done": 4}
    reasons = Counter(d["statusReason"][0]["text"] for d in doses if d["status"] == "not-done")
    assert reasons["The patient said the dose was not taken."] == 3
    assert reasons["No answer to the reminder: not known whether the dose was taken."] == 1
    late = [d for d in doses if "after the dose window" in d["note"][0]["text"]]
    assert [d["identifier"][0]["value"] for d in late] == ["2026-04-02#0"]


def test_bundle_regimen_mood_weight_and_side_effects() -> None:
    data = fhir_bytes(scenario.mina("en"))
    (plan,) = _resources(data, "CarePlan")
    assert "2HRZE/7HR" in plan["title"] and plan["period"]["start"] == "2026-03-02"
    requests = _resources(data, "MedicationRequest")
    # 2HRZE/7HR: four drugs in the first phase, two in the second.
    assert len(requests) == 6 and all(r["reportedBoolean"] for r in requests)
    observations = _resources(data, "Observation")
    coded = [
        (o["code"]["coding"][0]["code"], o.get("valueInteger", o.get("valueQuantity")))
        for o in observations
        if "coding" in o["code"]
    ]
    assert ("55757-9", 4) in coded and ("55757-9", 1) in coded and ("44261-6", 11) in coded
    weights = [o for o in observations if o["code"].get("coding", [{}])[0].get("code") == "29463-7"]
    # One body-weight Observation per weight given, in UCUM kg, at the instant it was given.
    assert [(o["effectiveDateTime"], o["valueQuantity"]["value"]) for o in weights] == [
        ("2026-03-02T09:00:00+08:00", 52.0),
        ("2026-04-02T20:00:00+08:00", 51.0),
        ("2026-05-03T20:00:00+08:00", 49.5),
        ("2026-07-03T20:00:00+08:00", 55.5),
    ]
    for observation in weights:
        assert observation["valueQuantity"] | {"value": 0} == {
            "value": 0,
            "unit": "kg",
            "system": "http://unitsofmeasure.org",
            "code": "kg",
        }
        assert observation["category"][0]["coding"][0]["code"] == "vital-signs"
    effects = [o for o in observations if "coding" not in o["code"]]
    assert [e["effectiveDateTime"][:10] for e in effects] == ["2026-03-20", "2026-05-19"]
    assert "Yellow skin" in effects[1]["valueString"] and "eyes yellow" in effects[1]["valueString"]


def test_csv_has_a_row_for_every_dose_side_effect_mood_weight_and_count() -> None:
    data = csv_bytes(scenario.mina("zh_Hans"))
    assert data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    kinds = Counter(r["record"] for r in rows)
    # 136 doses due (141 days, 5 paused), two side effects, three check-ins, four weights, and
    # 79 stock changes: 2 purchases, a recount, 57 + 19 doses of HR taken.
    assert kinds == {"dose": 136, "side_effect": 2, "mood": 3, "weight": 4, "stock": 79}
    weights = [(r["time"][:10], r["value"], r["unit"]) for r in rows if r["record"] == "weight"]
    assert weights == [
        ("2026-03-02", "52", "kg"),
        ("2026-04-02", "51", "kg"),
        ("2026-05-03", "49.5", "kg"),
        ("2026-07-03", "55.5", "kg"),
    ]
    stock = [r for r in rows if r["record"] == "stock"]
    assert Counter(r["outcome"] for r in stock) == {"bought": 2, "counted": 1, "used_by_dose": 76}
    assert [
        (r["outcome"], r["value"], r["note"]) for r in stock if r["outcome"] != "used_by_dose"
    ] == [
        ("bought", "200", "+200"),
        ("bought", "137", "+60"),
        ("counted", "98", "+9"),
    ]
    assert (stock[-1]["time"], stock[-1]["value"], stock[-1]["note"]) == (
        "2026-07-20T08:05:00+08:00",
        "41",
        "-3",
    )
    outcomes = Counter(r["outcome"] for r in rows if r["record"] == "dose")
    assert outcomes == {"taken": 131, "taken_late": 1, "missed": 3, "not_recorded": 1}
    assert not any(
        r["time"].startswith("2026-06-0") and r["record"] == "dose" and r["time"] < "2026-06-06"
        for r in rows
    )
    red = next(r for r in rows if r["outcome"] == "red_flag")
    assert (red["item"], red["note"], red["time"]) == (
        "jaundice",
        "eyes yellow",
        "2026-05-19T21:30:00+08:00",
    )
