"""Regimens written as plain data: the inverse of `treatment.catalogue.regimen_from_dict`,
so a regimen stored in a sealed enrolment plan (a custom one, or one a switch moved to) reads
back equal."""

from __future__ import annotations

from typing import Any

from treatment.regimen import (
    WEEKDAY_NAMES,
    DoseStep,
    Drug,
    Phase,
    ProductSet,
    Regimen,
    Window,
)


def regimen_to_dict(regimen: Regimen) -> dict[str, Any]:
    """The plain-data form `regimen_from_dict` reads back to an equal regimen (TOML-ready)."""
    out: dict[str, Any] = {
        "id": regimen.id,
        "name": regimen.name,
        "population": regimen.population,
        "source": regimen.source,
        "doses_per_day": regimen.doses_per_day,
    }
    if regimen.custom:
        out["custom"] = True
    if regimen.note:
        out["note"] = regimen.note
    if regimen.window is not None:
        out["window"] = _window_to_dict(regimen.window)
    out["phases"] = [_phase_to_dict(phase) for phase in regimen.phases]
    if regimen.product_sets:
        out["product_sets"] = [_product_set_to_dict(p) for p in regimen.product_sets]
    return out


def _product_set_to_dict(product_set: ProductSet) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": product_set.id,
        "name": product_set.name,
        "source": product_set.source,
        "verified": product_set.verified,
    }
    if product_set.note:
        out["note"] = product_set.note
    out["phases"] = {
        name: [
            {
                "name": product.name,
                "contains": {i.drug: i.mg for i in product.contains},
                "bands": [
                    {"min_kg": b.min_kg, "tablets": b.tablets}
                    | ({} if b.max_kg is None else {"max_kg": b.max_kg})
                    for b in product.bands
                ],
            }
            for product in products
        ]
        for name, products in product_set.phases
    }
    return out


def _window_to_dict(window: Window) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if window.duration is not None:
        for key in ("months", "weeks", "days"):
            value = getattr(window.duration, key)
            if value:
                out[key] = value
    out["verified"] = window.verified
    if window.note:
        out["note"] = window.note
    return out


def _phase_to_dict(phase: Phase) -> dict[str, Any]:
    pattern: dict[str, Any] = {"kind": phase.pattern.kind.value}
    if phase.pattern.weekdays:
        pattern["weekdays"] = [WEEKDAY_NAMES[d] for d in phase.pattern.weekdays]
    if phase.pattern.min_gap_hours is not None:
        pattern["min_gap_hours"] = phase.pattern.min_gap_hours
    out: dict[str, Any] = {
        "name": phase.name,
        "kind": phase.kind.value,
        "doses_required": phase.doses_required,
        "pattern": pattern,
    }
    if phase.window is not None:
        out["window"] = _window_to_dict(phase.window)
    if phase.combination:
        out["combination"] = phase.combination
    out["drugs"] = [_drug_to_dict(drug) for drug in phase.drugs]
    return out


def _drug_to_dict(drug: Drug) -> dict[str, Any]:
    out: dict[str, Any] = {"name": drug.name}
    if drug.note:
        out["note"] = drug.note
    if len(drug.steps) == 1:
        out.update(_step_to_dict(drug.steps[0]))
    else:
        out["steps"] = [_step_to_dict(step) for step in drug.steps]
    return out


def _step_to_dict(step: DoseStep) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("mg", "tablets", "mg_per_tablet", "for_days", "min_gap_hours"):
        value = getattr(step, key)
        if value is not None:
            out[key] = value
    if step.weekdays:
        out["weekdays"] = [WEEKDAY_NAMES[d] for d in step.weekdays]
    return out
