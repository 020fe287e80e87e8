"""`/export`: everything the bot holds about a patient's treatment, for the patient to keep.

Two files, both sent only to the patient's own chat:

- a CSV, one row per dose due so far, side effect, mood check-in, weight given, change of a
  tablet count (bought, counted, used by a dose; the value is the count after it) and visit or
  test noted, with plain codes a spreadsheet can sort (the columns are `CSV_COLUMNS`);
- a FHIR Bundle (a transaction, so a clinic's FHIR server can import it as it is): the patient,
  the regimen as a CarePlan with one MedicationRequest per drug and phase, one
  MedicationAdministration per dose due (completed, or not-done with its reason), PHQ-2 (LOINC
  55757-9), PHQ-9 (44261-6) and body weight (29463-7, in UCUM kg, one per weight given)
  Observations, each side effect as an Observation, and each visit or test the patient noted
  as an Appointment. Every resource is built and validated by the `fhir.resources` models of
  FHIR R4B (4.3.0): fhir.resources ships no 4.0.1 models, and every resource and element used
  here is the same in R4 and R4B (R4B changed only the medicinal-product, evidence and
  subscription resources).

The doses are the Record's classified plan, so the Bundle's completed administrations are the
number `/progress` calls doses taken.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fhir.resources.R4B.bundle import Bundle

from bot.records.facts import Record
from bot.records.words import LEVEL_ADVICE, LEVEL_NAMES
from bot.texts import SYMPTOM_LABELS
from scheduler.visits import Visit, VisitKind
from storage.records import WeightSource
from treatment.doses import DrugDose
from treatment.events import ClassifiedSlot, SlotState
from treatment.stock import Movement
from treatment.triage import Level

CSV_COLUMNS = ("record", "time", "item", "outcome", "value", "unit", "note")

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
SLOT_SYSTEM = "urn:tbbot:dose-slot"
LOINC_CODES = {
    "phq2": ("55757-9", "Patient Health Questionnaire 2 item (PHQ-2) [Reported]"),
    "phq9": ("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"),
}
BODY_WEIGHT = ("29463-7", "Body weight")

OUTCOMES = {
    SlotState.TAKEN: "taken",
    SlotState.MISSED: "missed",
    SlotState.NO_REPLY: "not_recorded",
    SlotState.SKIPPED_ON_ADVICE: "skipped_on_advice",
    SlotState.OPEN: "open",
}
NOT_DONE_REASONS = {
    SlotState.MISSED: "The patient said the dose was not taken.",
    SlotState.NO_REPLY: "No answer to the reminder: not known whether the dose was taken.",
    SlotState.SKIPPED_ON_ADVICE: "Not taken on a clinician's advice.",
}
STOCK_MOVEMENTS = {
    Movement.BOUGHT: "bought",
    Movement.RECOUNT: "counted",
    Movement.USED: "used_by_dose",
}
WEIGHT_SOURCES = {
    WeightSource.SETUP: "Reported by the patient at set-up.",
    WeightSource.SETTINGS: "Reported by the patient in the settings.",
    WeightSource.WEIGH_IN: "Reported by the patient at the monthly weight question.",
}
VISIT_KINDS = {
    VisitKind.CLINIC: "Clinic visit",
    VisitKind.SPUTUM: "Sputum test",
    VisitKind.BLOOD: "Blood test",
    VisitKind.ECG: "Electrocardiogram (ECG)",
}
LEVEL_CODES = {Level.REASSURE: "reassure", Level.SOON: "soon", Level.RED_FLAG: "red_flag"}


def _drugs(drugs: tuple[DrugDose, ...]) -> str:
    parts = []
    for drug in drugs:
        amount = "as prescribed" if drug.mg is None else f"{drug.mg:g} mg"
        parts.append(f"{drug.name} {amount}")
    return "; ".join(parts)


def _outcome(record: Record, item: ClassifiedSlot) -> str:
    if item.state is SlotState.TAKEN and item.slot.key in record.late:
        return "taken_late"
    return OUTCOMES[item.state]


def csv_bytes(record: Record) -> bytes:
    """The CSV (UTF-8 with a byte-order mark, which spreadsheet programs need to read Korean
    and Chinese right); times in ISO 8601 with the patient's offset."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in _csv_rows(record):
        writer.writerow(row)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_rows(record: Record) -> Iterator[tuple[str, ...]]:
    for item in record.due:
        slot = item.slot
        taken_at = item.taken_at.astimezone(slot.local.tzinfo).isoformat() if item.taken_at else ""
        yield (
            "dose",
            slot.local.isoformat(),
            f"{slot.regimen_id} {slot.phase}: {_drugs(slot.drugs)}",
            _outcome(record, item),
            taken_at,
            "",
            slot.key,
        )
    for effect in record.side_effects:
        yield (
            "side_effect",
            effect.at.isoformat(),
            ";".join(effect.symptoms),
            LEVEL_CODES[effect.level],
            "",
            "",
            effect.free_text or "",
        )
    for check in record.moods:
        yield ("mood", check.at.isoformat(), check.instrument, "", str(check.score), "score", "")
    for weight in record.weights:
        yield (
            "weight",
            weight.at.isoformat(),
            "body weight",
            weight.source,
            f"{weight.kg:g}",
            "kg",
            "",
        )
    if not record.weights and record.weight_kg is not None:
        # Set up before weights were kept: the one weight known, undated.
        yield ("weight", "", "body weight", "as entered", f"{record.weight_kg:g}", "kg", "")
    for change in record.stock_changes:
        note = f"{change.change:+d}" + ("; the dose found too few tablets" if change.short else "")
        yield (
            "stock",
            change.at.isoformat(),
            change.product,
            STOCK_MOVEMENTS[change.movement],
            str(change.left),
            "tablets",
            note,
        )
    counted = record.stock_counted_at.isoformat() if record.stock_counted_at else ""
    followed = {change.product for change in record.stock_changes}
    for product, count in sorted(record.stock.items()):
        if product not in followed:
            yield ("stock", counted, product, "counted", str(count), "tablets", "")
    for visit in record.visits:
        when = visit.at.astimezone(ZoneInfo(visit.zone)).isoformat()
        state = "upcoming" if visit.at > record.now else "past"
        yield ("visit", when, visit.kind.value, state, "", "", "")


def fhir_bundle(record: Record, *, created: datetime | None = None) -> Bundle:
    """The Bundle, validated by the fhir.resources models as it is built."""
    ids = _Ids()
    patient_ref = {"reference": ids.new("patient")}
    entries: list[dict[str, Any]] = [
        _entry(ids.get("patient"), _patient(record)),
    ]
    plan_url = ids.new("careplan")
    requests = []
    for number, phase in enumerate(record.regimen.phases):
        progress = next((p for p in record.summary.phases if p.name == phase.name), None)
        for drug in phase.drugs:
            url = ids.new(f"request:{number}:{drug.name}")
            requests.append(url)
            entries.append(
                _entry(
                    url,
                    {
                        "resourceType": "MedicationRequest",
                        "status": "completed" if progress and progress.complete else "active",
                        "intent": "order",
                        "reportedBoolean": True,
                        "medicationCodeableConcept": {"text": drug.name},
                        "subject": patient_ref,
                        "basedOn": [{"reference": plan_url}],
                        "dosageInstruction": [
                            {
                                "sequence": number + 1,
                                "text": f"{phase.name}: {phase.doses_required} doses "
                                f"({phase.pattern.kind.value})",
                            }
                        ],
                        "note": [{"text": drug.note}] if drug.note else None,
                    },
                )
            )
    summary = record.summary
    entries.insert(
        1,
        _entry(
            plan_url,
            {
                "resourceType": "CarePlan",
                "status": "completed" if summary.complete else "active",
                "intent": "plan",
                "title": f"{record.regimen.name} ({record.regimen.id})",
                "description": f"Source: {record.regimen.source}",
                "subject": patient_ref,
                "period": {"start": record.start.isoformat()},
                "activity": [{"reference": {"reference": url}} for url in requests],
                "note": [
                    {
                        "text": f"Doses taken: {summary.doses_taken} of "
                        f"{summary.doses_required}"
                        + (
                            f"; last dose expected on {summary.projected_completion.isoformat()}"
                            if summary.projected_completion and not summary.complete
                            else ""
                        )
                    }
                ],
            },
        ),
    )
    for item in record.due:
        if item.state is SlotState.OPEN:
            continue
        entries.append(
            _entry(ids.new("dose"), _administration(record, item, patient_ref, plan_url))
        )
    for check in record.moods:
        if check.instrument not in LOINC_CODES:
            continue
        code, display = LOINC_CODES[check.instrument]
        entries.append(
            _entry(
                ids.new("mood"),
                {
                    "resourceType": "Observation",
                    "status": "final",
                    "category": [_category("survey")],
                    "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
                    "subject": patient_ref,
                    "effectiveDateTime": check.at.isoformat(),
                    "valueInteger": check.score,
                },
            )
        )
    for weight in _weights(record):
        entries.append(_entry(ids.new("weight"), weight | {"subject": patient_ref}))
    for effect in record.side_effects:
        symptoms = ", ".join(SYMPTOM_LABELS.get(s, s) for s in effect.symptoms)
        entries.append(
            _entry(
                ids.new("side-effect"),
                {
                    "resourceType": "Observation",
                    "status": "final",
                    "category": [_category("survey")],
                    "code": {"text": "Side effect reported by the patient"},
                    "subject": patient_ref,
                    "effectiveDateTime": effect.at.isoformat(),
                    "valueString": symptoms
                    + (f" — “{effect.free_text}”" if effect.free_text else ""),
                    "interpretation": [{"text": LEVEL_NAMES[effect.level]}],
                    "note": [{"text": LEVEL_ADVICE[effect.level]}],
                },
            )
        )
    entries.extend(
        _entry(ids.new("appointment"), _appointment(visit, patient_ref)) for visit in record.visits
    )
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "transaction",
            "timestamp": (created or record.now).isoformat(),
            "entry": entries,
        }
    )


def fhir_bytes(record: Record) -> bytes:
    bundle = fhir_bundle(record)
    return json.dumps(
        json.loads(bundle.model_dump_json(exclude_none=True)), ensure_ascii=False, indent=1
    ).encode("utf-8")


def _patient(record: Record) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Patient"}
    if record.alias:
        resource["name"] = [{"text": record.alias, "use": "nickname"}]
    return resource


def _administration(
    record: Record, item: ClassifiedSlot, patient: dict[str, str], plan_url: str
) -> dict[str, Any]:
    slot = item.slot
    done = item.state is SlotState.TAKEN
    when = item.taken_at if done and item.taken_at else slot.utc
    notes = [f"Due {slot.local.isoformat()}"]
    if done and slot.key in record.late:
        notes.append("Reported after the dose window had closed.")
    resource: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "identifier": [{"system": SLOT_SYSTEM, "value": slot.key}],
        "status": "completed" if done else "not-done",
        "medicationCodeableConcept": {"text": f"{slot.regimen_id} ({slot.phase})"},
        "subject": patient,
        "supportingInformation": [{"reference": plan_url}],
        "effectiveDateTime": when.astimezone(slot.local.tzinfo).isoformat(),
        "dosage": {"text": _drugs(slot.drugs)},
        "note": [{"text": " ".join(notes)}],
    }
    if not done:
        resource["statusReason"] = [{"text": NOT_DONE_REASONS[item.state]}]
    return resource


def _weights(record: Record) -> list[dict[str, Any]]:
    """One body-weight Observation per weight the patient gave, at the instant they gave it;
    for a patient set up before weights were kept, the one weight known, undated."""
    code, display = BODY_WEIGHT
    base: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [_category("vital-signs")],
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
    }

    def quantity(kg: float) -> dict[str, Any]:
        return {"value": kg, "unit": "kg", "system": UCUM, "code": "kg"}

    if record.weights:
        return [
            base
            | {
                "effectiveDateTime": weight.at.isoformat(),
                "valueQuantity": quantity(weight.kg),
                "note": [{"text": WEIGHT_SOURCES[weight.source]}],
            }
            for weight in record.weights
        ]
    if record.weight_kg is None:
        return []
    return [
        base
        | {
            "issued": record.now.isoformat(),
            "valueQuantity": quantity(record.weight_kg),
            "note": [{"text": "As the patient last entered it; the date is not kept."}],
        }
    ]


def _appointment(visit: Visit, patient: dict[str, str]) -> dict[str, Any]:
    """A visit or test the patient noted: booked, at its local time with its offset. Only the
    start was asked, so the end is the start (FHIR wants both or neither) and says so."""
    start = visit.at.astimezone(ZoneInfo(visit.zone)).isoformat()
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "serviceType": [{"text": VISIT_KINDS[visit.kind]}],
        "start": start,
        "end": start,
        "comment": "Noted by the patient; the end time was not asked.",
        "participant": [{"actor": patient, "status": "accepted"}],
    }


def _category(code: str) -> dict[str, Any]:
    return {"coding": [{"system": OBSERVATION_CATEGORY, "code": code}]}


def _entry(url: str, resource: dict[str, Any]) -> dict[str, Any]:
    resource = {k: v for k, v in resource.items() if v is not None}
    return {
        "fullUrl": url,
        "resource": resource,
        "request": {"method": "POST", "url": resource["resourceType"]},
    }


class _Ids:
    """`urn:uuid:` placeholders, new for every export: the importing server assigns its own
    ids, and nothing in the file can be matched to the bot's rows."""

    def __init__(self) -> None:
        self._urls: dict[str, str] = {}

    def new(self, name: str) -> str:
        url = f"urn:uuid:{uuid.uuid4()}"
        self._urls[name] = url
        return url

    def get(self, name: str) -> str:
        return self._urls[name]
