"""Typed errors of the treatment domain.

Every error carries a machine-readable `code` (the bot translates codes, never messages) and
an English `message` for logs and the command line that says what is wrong and what is allowed.
Messages never contain patient data: only regimen ids, field names and the offending value
when that value is configuration (a time, a zone name, a number), not a person's content.
"""

from __future__ import annotations

from treatment.codes import ErrorCode


class TreatmentError(ValueError):
    """Input the treatment engine refuses."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class RegimenFileError(TreatmentError):
    """A regimen file (or a custom regimen) that fails validation: names the file and field."""

    def __init__(self, source: str, field: str, message: str) -> None:
        super().__init__(ErrorCode.INVALID_REGIMEN, f"{source}: {field}: {message}", field=field)
        self.source = source


class DataFileError(TreatmentError):
    """A packaged data file other than a regimen (weight bands, rule thresholds) that fails
    validation: names the file and field, like `RegimenFileError`."""

    def __init__(self, source: str, field: str, message: str) -> None:
        super().__init__(ErrorCode.INVALID_DATA_FILE, f"{source}: {field}: {message}", field=field)
        self.source = source
