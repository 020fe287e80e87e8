"""The port through which the engine gets the words of its messages.

The engine decides *when* and *to whom*; a `Composer` decides *what it says*, in the patient's
language and with discreet wording when asked. The real one lives in `bot/` (translations,
buttons); tests use a plain one. Keeping it a port keeps the layering: `scheduler` imports
`treatment` and `storage` only.

Buttons carry the slot id (``taken:<slot id>``): slot ids are storage's `new_id()`, 32 hex
characters, which fits a 48-character ``[A-Za-z0-9_.-]`` button argument.
"""

from __future__ import annotations

from typing import Protocol

from scheduler.ladder import Step
from scheduler.outbox import Payload
from storage.records import DoseSlot, Helper, Patient
from treatment.adherence import AdherenceSummary


class Composer(Protocol):
    def reminder(self, patient: Patient, slot: DoseSlot, step: Step, *, nudge: bool) -> Payload:
        """The reminder for `slot` (`step` REMIND, `nudge` False: the first one, or the one
        after a snooze) or a nudge (`step` NUDGE, `nudge` True). `slot.dose` holds the sealed
        dose: see `scheduler.doses.dose_json`."""
        ...

    def helper_alert(
        self, patient: Patient, helper: Helper, slot: DoseSlot, summary: AdherenceSummary
    ) -> Payload:
        """Tell `helper` that `slot` ended unanswered; `summary` is the adherence as of the
        close of its window. Only called when the patient's consent allows helper alerts."""
        ...
