"""Words shared by the picture, the report, the export and the text calendar."""

from __future__ import annotations

from bot.texts import N_
from treatment.calendar import Mark
from treatment.triage import Level

MARK_LABELS = {
    Mark.TAKEN: N_("Dose taken"),
    Mark.LATE: N_("Dose taken late"),
    Mark.MISSED: N_("Dose missed"),
    Mark.NOT_RECORDED: N_("Not recorded"),
    Mark.SKIPPED: N_("Not taken, on a clinician's advice"),
    Mark.PAUSED: N_("Paused"),
    Mark.TO_COME: N_("Still to come"),
    Mark.NO_DOSE: N_("No dose that day"),
}

SIDE_EFFECT = N_("Side effect reported")
SERIOUS_SIDE_EFFECT = N_("Serious side effect reported")
PHASE_BEGINS = N_("A phase begins")
LAST_DOSE = N_("Last dose expected")
TODAY = N_("Today")

LEVEL_NAMES = {
    Level.REASSURE: N_("Harmless, known effect"),
    Level.SOON: N_("See a clinician soon"),
    Level.RED_FLAG: N_("Serious: stop and get care today"),
}

# What the patient was told, as `bot.flows.symptom.advice` words it, in brief.
LEVEL_ADVICE = {
    Level.REASSURE: N_("Told it is harmless and to keep taking the medicine."),
    Level.SOON: N_("Told to see a clinician within days and keep taking the medicine."),
    Level.RED_FLAG: N_("Told to stop the medicine and get medical care the same day."),
}

# The text calendar's legend: short, since an SMS segment is 70 characters in Korean or Chinese.
MARK_WORDS = {
    Mark.TAKEN: N_("taken"),
    Mark.LATE: N_("late"),
    Mark.MISSED: N_("missed"),
    Mark.NOT_RECORDED: N_("not recorded"),
    Mark.PAUSED: N_("paused"),
    Mark.TO_COME: N_("to come"),
}

# One character a day where no picture can be sent (`bot.records.text`).
MARK_SYMBOLS = {
    Mark.TAKEN: "✅",
    Mark.LATE: "☑️",
    Mark.MISSED: "❌",
    Mark.NOT_RECORDED: "❔",
    Mark.SKIPPED: "➖",
    Mark.PAUSED: "⏸",
    Mark.TO_COME: "⏳",
    Mark.NO_DOSE: "▫️",
}

MOOD_INSTRUMENTS = {"phq2": "PHQ-2", "phq9": "PHQ-9"}
PHQ9_BANDS = {
    "minimal": N_("Minimal symptoms"),
    "mild": N_("Mild symptoms"),
    "moderate": N_("Moderate symptoms"),
    "moderately_severe": N_("Moderately severe symptoms"),
    "severe": N_("Severe symptoms"),
}
PHQ2_POSITIVE = N_("At or above the cut-off of {cutoff}")
PHQ2_NEGATIVE = N_("Below the cut-off of {cutoff}")
