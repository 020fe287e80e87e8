"""Every machine-readable code the treatment engine emits, in one place.

The bot translates these codes (gettext msgids are derived from them); English messages on
errors and statuses are for logs and the command line only. Codes are stable strings: the
store may persist them, so rename one only with a migration.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Why the engine refused an input (carried by `TreatmentError.code`)."""

    INVALID_REGIMEN = "invalid_regimen"
    UNKNOWN_REGIMEN = "unknown_regimen"
    INVALID_TIME = "invalid_time"
    WRONG_NUMBER_OF_TIMES = "wrong_number_of_times"
    DUPLICATE_TIME = "duplicate_time"
    UNKNOWN_TIME_ZONE = "unknown_time_zone"
    WEIGHT_OUT_OF_RANGE = "weight_out_of_range"
    START_TOO_FAR = "start_too_far"
    INVALID_DATE = "invalid_date"
    INVALID_PAUSE = "invalid_pause"
    INVALID_ZONE_CHANGE = "invalid_zone_change"
    INVALID_TIME_CHANGE = "invalid_time_change"
    INVALID_SWITCH = "invalid_switch"
    UNKNOWN_BAND_TABLE = "unknown_band_table"
    UNKNOWN_PRODUCT_SET = "unknown_product_set"
    INVALID_ENROLMENT = "invalid_enrolment"
    INVALID_EVENT = "invalid_event"
    INVALID_DATA_FILE = "invalid_data_file"


class Severity(StrEnum):
    """How loudly a status should be surfaced; ordered from quiet to loud."""

    OK = "ok"
    INFO = "info"
    WARNING = "warning"
    CLINICIAN = "clinician"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.OK: 0, Severity.INFO: 1, Severity.WARNING: 2, Severity.CLINICIAN: 3}


class Reason(StrEnum):
    """Why a status was given. Codes ending in `_talk_to_clinician` end in a clinical decision."""

    # Overall progress.
    ON_TRACK = "on_track"
    NOT_STARTED = "not_started"
    TREATMENT_COMPLETE = "treatment_complete"
    COMPLETION_WINDOW_CANNOT_BE_MET = "completion_window_cannot_be_met_talk_to_clinician"
    # Lapses and loss to follow-up.
    LAPSE_WARNING = "lapse_warning"
    LOST_TO_FOLLOW_UP = "lost_to_follow_up_talk_to_clinician"
    # Intensive phase (ATS/CDC/IDSA 2016, pocket guide table 5).
    INTENSIVE_LAPSE_CONTINUE = "intensive_lapse_continue"
    INTENSIVE_INTERRUPTION = "intensive_interruption_talk_to_clinician"
    INTENSIVE_WINDOW_CANNOT_BE_MET = "intensive_window_cannot_be_met_talk_to_clinician"
    # Continuation phase (same table).
    CONTINUATION_OVER_80_CONTINUE = "continuation_over_80_continue"
    CONTINUATION_COMPLETE_ALL_DOSES = "continuation_complete_all_doses"
    CONTINUATION_LONG_LAPSE = "continuation_long_lapse_talk_to_clinician"
    CONTINUATION_INTERRUPTION = "continuation_interruption_talk_to_clinician"
    # Bedaquiline (WHO drug-resistant TB handbook, section 5.2.4).
    BEDAQUILINE_LOADING_MISSED = "bedaquiline_loading_missed_not_made_up"
    BEDAQUILINE_TAKE_WITHIN_48H = "bedaquiline_take_within_48h"
    BEDAQUILINE_NEXT_NOT_BEFORE = "bedaquiline_next_not_before"
    BEDAQUILINE_WINDOW_PASSED = "bedaquiline_window_passed_talk_to_clinician"
    BEDAQUILINE_RELOAD = "bedaquiline_reload_talk_to_clinician"
    BEDAQUILINE_REASSESS = "bedaquiline_reassess_talk_to_clinician"
    # Doses and weight.
    DOSE_AS_PRESCRIBED = "dose_as_prescribed"
    WEIGHT_NEEDED = "weight_needed_for_tablets"
    WEIGHT_OUTSIDE_BANDS = "weight_outside_bands_talk_to_clinician"
    WEIGHT_CHANGED = "weight_changed_ask_clinician"
