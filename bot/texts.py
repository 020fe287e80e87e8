"""Names the bot shows for things the domain knows by id: regimens, symptoms, reason codes.

`N_` marks a string for the translation catalogue without translating it here; the dialogue
translates at the moment it speaks, in the reader's language.
"""

from __future__ import annotations


def N_(message: str) -> str:
    return message


REGIMEN_NAMES = {
    "2HRZE/4HR": N_("Standard TB treatment, 6 months, every day (2HRZE/4HR)"),
    "2HRZE/4HR-5d": N_("Standard TB treatment, 6 months, 5 days a week (2HRZE/4HR)"),
    "2HRZE/7HR": N_("Longer TB treatment, 9 months, every day (2HRZE/7HR)"),
    "2HPMZ/2HPM": N_("4-month treatment with rifapentine and moxifloxacin (2HPMZ/2HPM)"),
    "2HRZ(E)/2HR": N_("4-month treatment for children (2HRZ(E)/2HR)"),
    "BPaLM": N_("Drug-resistant TB, 6 months (BPaLM)"),
    "3HP": N_("Preventive treatment, once a week for 3 months (3HP)"),
    "1HP": N_("Preventive treatment, every day for 1 month (1HP)"),
    "3HR": N_("Preventive treatment, every day for 3 months (3HR)"),
    "4R": N_("Preventive treatment, every day for 4 months (4R)"),
    "6H": N_("Preventive treatment, every day for 6 months (6H)"),
    "9H": N_("Preventive treatment, every day for 9 months (9H)"),
}

LANGUAGE_NAMES = {"en": "English", "ko": "한국어", "zh_Hans": "简体中文"}

SYMPTOM_LABELS = {
    "orange_fluids": N_("Orange or red urine, tears or sweat"),
    "sun_sensitivity": N_("Skin burns easily in the sun"),
    "mild_nausea": N_("Mild nausea or upset stomach"),
    "joint_aches": N_("Aching joints"),
    "itching": N_("Itching without a rash"),
    "headache": N_("Headache"),
    "low_mood": N_("Feeling low or sad"),
    "jaundice": N_("Yellow skin or yellow eyes"),
    "dark_urine_pale_stools": N_("Dark brown urine or pale stools"),
    "vomiting": N_("Vomiting"),
    "belly_pain": N_("Pain in the belly"),
    "fever": N_("Fever for 3 days or more"),
    "flu_like": N_("Feeling like flu (chills, aches, fever)"),
    "tiredness": N_("Unusual tiredness or weakness that does not go away"),
    "rash": N_("Rash or peeling skin"),
    "vision": N_("Blurred vision or colours look different"),
    "numbness": N_("Numbness or tingling in hands, feet or around the mouth"),
    "bleeding": N_("Bruising or bleeding easily"),
    "heart_rhythm": N_("Dizziness, a racing heart or fainting"),
    "hearing": N_("Hearing loss or ringing in the ears"),
    "other": N_("Something else"),
}

ADVICE = {
    "take_with_food": N_("Taking your dose with a little food often helps an upset stomach."),
    "contraception": N_(
        "Good to know: this medicine makes birth-control pills, patches and implants less "
        "reliable. Use condoms or ask a clinician about other methods while on treatment."
    ),
}
