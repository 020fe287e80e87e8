"""Names the bot shows for things the domain knows by id: regimens, symptoms, reason codes.

`N_` marks a string for the translation catalogue without translating it here; the dialogue
translates at the moment it speaks, in the reader's language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.i18n import Translator
    from treatment.regimen import Regimen


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
    "BPaL": N_("Drug-resistant TB, 6 months, three medicines (BPaL)"),
    "9m-all-oral": N_("Drug-resistant TB, 9 months, with ethionamide"),
    "9m-all-oral-Lzd": N_("Drug-resistant TB, 9 months, with linezolid"),
    "6REZ-Lfx": N_("Isoniazid-resistant TB, 6 months (6REZ-Lfx)"),
}

# The same regimens named by length and rhythm only, for channels every message of which others
# read on the way (SMS): never the illness or a drug. The figures in brackets are the months of
# each phase, as prescriptions write them, and "kinds" the kinds of tablet, so that a patient
# can tell which is theirs. Short: all of them are listed in one SMS question.
DISCREET_REGIMEN_NAMES = {
    "2HRZE/4HR": N_("6 months daily (2+4)"),
    "2HRZE/4HR-5d": N_("6 months, 5 days a week (2+4)"),
    "2HRZE/7HR": N_("9 months daily (2+7)"),
    "2HPMZ/2HPM": N_("4 months daily (2+2)"),
    "2HRZ(E)/2HR": N_("4 months, for a child (2+2)"),
    "3HP": N_("3 months, once a week"),
    "1HP": N_("1 month daily, 2 kinds"),
    "3HR": N_("3 months daily, 2 kinds"),
    "4R": N_("4 months daily, 1 kind"),
    "6H": N_("6 months daily, 1 kind"),
    "9H": N_("9 months daily, 1 kind"),
    "BPaL": N_("6 months daily, 3 kinds"),
    # Plans alike in length, rhythm and kinds of tablet are told apart by a letter only: the
    # patient asks their clinician which it is (naming a drug would be the alternative).
    "BPaLM": N_("6 months daily, 4 kinds, A"),
    "6REZ-Lfx": N_("6 months daily, 4 kinds, B"),
    "9m-all-oral": N_("9 months daily (4+2+3), A"),
    "9m-all-oral-Lzd": N_("9 months daily (4+2+3), B"),
}


def discreet_name(t: Translator, regimen: Regimen) -> str:
    """A regimen's name that says nothing of what it treats (a plan added later without one
    of its own is told apart by its phases' lengths in doses)."""
    known = DISCREET_REGIMEN_NAMES.get(regimen.id)
    if known is not None:
        return t._(known)
    return t._(
        "Plan of {doses} doses", doses=" + ".join(str(p.doses_required) for p in regimen.phases)
    )


# The product sets a regimen file may offer besides the combination tablets, by id.
PRODUCT_SET_NAMES = {
    "separate": N_("Separate tablets, one kind per medicine"),
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

# What the patient reads for each status of `treatment.codes.Reason`. `{until}` is a local date
# and time when the status carries one. Codes ending in "talk_to_clinician" end in a clinical
# decision: the words say so and never decide for the clinician.
REASONS = {
    "on_track": N_("You are on track. Keep going!"),
    "not_started": N_("Your first dose is still to come."),
    "treatment_complete": N_(
        "You have taken every dose. Please see a clinician for your end-of-treatment check."
    ),
    "completion_window_cannot_be_met_talk_to_clinician": N_(
        "The remaining doses can no longer fit in the usual time limit. Please talk to a "
        "clinician about what to do next."
    ),
    "lapse_warning": N_(
        "A few doses have been missed in a row. Taking the next one on time helps most."
    ),
    "lost_to_follow_up_talk_to_clinician": N_(
        "No doses for two months or more. Please talk to a clinician before starting again."
    ),
    "intensive_lapse_continue": N_(
        "Some doses were missed in the first phase. Carry on: the missed doses are added at "
        "the end."
    ),
    "intensive_interruption_talk_to_clinician": N_(
        "Doses stopped for 14 days or more in the first phase. Please talk to a clinician: "
        "treatment may need to start again."
    ),
    "intensive_window_cannot_be_met_talk_to_clinician": N_(
        "The first-phase doses can no longer be finished in time. Please talk to a clinician."
    ),
    "continuation_over_80_continue": N_(
        "Most doses are taken. Carry on; a clinician will decide whether more are needed."
    ),
    "continuation_complete_all_doses": N_(
        "Some doses were missed. Carry on until every dose is taken."
    ),
    "continuation_long_lapse_talk_to_clinician": N_(
        "There was a long break in your doses. Please talk to a clinician."
    ),
    "continuation_interruption_talk_to_clinician": N_(
        "Doses stopped for a long time. Please talk to a clinician: treatment may need to start "
        "again."
    ),
    "bedaquiline_loading_missed_not_made_up": N_(
        "A bedaquiline dose in the first two weeks was missed. It is not made up: just take the "
        "next one."
    ),
    "bedaquiline_take_within_48h": N_(
        "You can still take the missed bedaquiline dose now, until {until}."
    ),
    "bedaquiline_next_not_before": N_("Take the next bedaquiline dose no earlier than {until}."),
    "bedaquiline_window_passed_talk_to_clinician": N_(
        "The time to make up the missed bedaquiline dose has passed. Please ask a clinician."
    ),
    "bedaquiline_reload_talk_to_clinician": N_(
        "Bedaquiline was stopped for more than two weeks. Please talk to a clinician: a few "
        "daily doses may be needed again."
    ),
    "bedaquiline_reassess_talk_to_clinician": N_(
        "Bedaquiline was stopped for more than eight weeks. Please talk to a clinician before "
        "continuing."
    ),
    "dose_as_prescribed": N_("Take the amount your clinician prescribed."),
    "weight_needed_for_tablets": N_(
        "Tell me your weight in /settings to see how many tablets to take."
    ),
    "weight_outside_bands_talk_to_clinician": N_(
        "Your weight is outside the usual table. Please ask a clinician how many tablets to take."
    ),
    "weight_changed_ask_clinician": N_(
        "Your weight has changed. Please ask a clinician whether your dose changes."
    ),
}

# The same statuses in discreet mode, where no drug is named (the others name none).
DISCREET_REASONS = {
    "bedaquiline_loading_missed_not_made_up": N_(
        "A dose in the first two weeks was missed. It is not made up: just take the next one."
    ),
    "bedaquiline_take_within_48h": N_(
        "You can still take the missed three-times-a-week tablets now, until {until}."
    ),
    "bedaquiline_next_not_before": N_(
        "Take the three-times-a-week tablets no earlier than {until}."
    ),
    "bedaquiline_window_passed_talk_to_clinician": N_(
        "The time to make up the missed dose has passed. Please ask a clinician."
    ),
    "bedaquiline_reload_talk_to_clinician": N_(
        "Some of your tablets were stopped for more than two weeks. Please talk to a "
        "clinician: a few daily doses may be needed again."
    ),
    "bedaquiline_reassess_talk_to_clinician": N_(
        "Some of your tablets were stopped for more than eight weeks. Please talk to a "
        "clinician before continuing."
    ),
}

PHASE_NAMES = {
    "intensive": N_("First phase"),
    "continuation": N_("Second phase"),
    "treatment": N_("Treatment"),
}
