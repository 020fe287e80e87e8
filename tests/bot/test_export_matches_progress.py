"""`/export` through the real dialogue and store: its doses are the ones `/progress` counts,
and it holds every weight given and every change of the tablet count, as they happened."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from datetime import timedelta

from fhir.resources.R4B.bundle import Bundle

from tests.bot.test_dialogue import onboard_plainly
from tests.bot.world import Person, World


async def _export(mina: Person) -> tuple[list[dict[str, str]], list[dict]]:  # type: ignore[type-arg]
    replies = await mina.say("/export")
    files = {r.attachment.filename: r.attachment.data for r in replies if r.attachment}
    table = next(data for name, data in files.items() if name.endswith(".csv"))
    bundle = next(data for name, data in files.items() if name.endswith(".json"))
    Bundle.model_validate(json.loads(bundle))
    rows = list(csv.DictReader(io.StringIO(table.decode("utf-8-sig"))))
    return rows, [e["resource"] for e in json.loads(bundle)["entry"]]


async def test_export_counts_what_progress_counts_and_keeps_the_history(world: World) -> None:
    mina = world.person("7001")
    await onboard_plainly(mina)  # 52 kg, 3 tablets of HRZE a dose; the dose at 20:00
    await mina.say("/stock")
    await mina.choose("I bought tablets")
    await mina.say("30")
    # Five evenings: taken, taken, not answered, "not today", taken.
    answers = ["/taken", "/taken", None, "skip", "/taken"]
    for day, answer in enumerate(answers):
        await world.travel(timedelta(hours=11, minutes=5) if day == 0 else timedelta(hours=24))
        if answer == "/taken":
            await mina.say("/taken")
        elif answer == "skip":
            patient_id = await world.patient_id("7001")
            [slot] = await _open(world, patient_id)
            await mina.press(f"skip:{slot}")
    await world.travel(timedelta(hours=8))  # the third evening's window has closed
    await mina.say("/settings")
    await mina.choose("Weight")
    await mina.say("53")

    progress = "\n".join(r.text for r in await mina.say("/progress"))
    taken = int(re.search(r"Doses taken: (\d+) of 182", progress)[1])  # type: ignore[index]
    assert taken == 3
    rows, resources = await _export(mina)
    doses = [r for r in resources if r["resourceType"] == "MedicationAdministration"]
    assert Counter(d["status"] for d in doses) == {"completed": taken, "not-done": 2}
    assert Counter(r["outcome"] for r in rows if r["record"] == "dose") == {
        "taken": 3,
        "not_recorded": 1,
        "missed": 1,
    }

    weights = [(r["outcome"], r["value"]) for r in rows if r["record"] == "weight"]
    assert weights == [("setup", "52"), ("settings", "53")]
    observed = [
        r["valueQuantity"]["value"]
        for r in resources
        if r["resourceType"] == "Observation"
        and r["code"].get("coding", [{}])[0].get("code") == "29463-7"
    ]
    assert observed == [52.0, 53.0]
    stock = [(r["outcome"], r["value"], r["note"]) for r in rows if r["record"] == "stock"]
    assert stock == [
        ("bought", "30", "+30"),
        ("used_by_dose", "27", "-3"),
        ("used_by_dose", "24", "-3"),
        ("used_by_dose", "21", "-3"),
    ]


async def _open(world: World, patient_id: str) -> list[str]:
    now = world.clock.now()
    slots = await world.store.doses.slots_between(patient_id, now - timedelta(hours=2), now)
    return [s.id for s in slots]
