"""The port through which the engine gets the words of its messages.

The engine decides *when* and *to whom*; a `Composer` decides *what it says*, in the patient's
language and with discreet wording when asked. The real one lives in `bot/` (translations,
buttons); tests use a plain one. Keeping it a port keeps the layering: `scheduler` imports
`treatment` and `storage` only.

Buttons carry the slot id (``taken:<slot id>``): slot ids are storage's `new_id()`, 32 hex
characters, which fits a 48-character ``[A-Za-z0-9_.-]`` button argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol

from scheduler.doses import DayCount
from scheduler.ladder import Step
from scheduler.outbox import Payload
from storage.records import DoseSlot, Helper, Incident, Patient


class Note(StrEnum):
    """Short notes to a helper about an alert they were sent."""

    HANDLED = "handled"  # another helper is reaching out


class Composer(Protocol):
    def reminder(self, patient: Patient, slot: DoseSlot, step: Step, *, nudge: bool) -> Payload:
        """The reminder for `slot` (`step` REMIND, `nudge` False: the first one, or the one
        after a snooze) or a nudge (`step` NUDGE, `nudge` True). `slot.dose` holds the sealed
        dose: see `scheduler.doses.dose_json`."""
        ...

    def helper_alert(self, patient: Patient, helper: Helper, incident: Incident) -> Payload:
        """Tell `helper` about `incident` (its sealed ``detail`` holds the kind and facts:
        see `scheduler.alerts`), with "I'll reach out" and "Can't reach" buttons carrying the
        incident id. Only called when the patient allows helper alerts."""
        ...

    def helper_note(self, patient: Patient, helper: Helper, note: Note) -> Payload:
        """A short note about an alert `helper` received before (e.g. it is handled)."""
        ...

    def patient_told(self, patient: Patient, helper: Helper) -> Payload:
        """To the patient: doses stopped and `helper` was told, so nobody reaches out to them
        unannounced (the patient chose the helper; they must know when one is alerted)."""
        ...

    def helper_summary(self, patient: Patient, helper: Helper, days: Sequence[DayCount]) -> Payload:
        """The weekly summary for a helper who asked for it: doses per day, oldest first."""
        ...
