"""The list of forgotten patients, kept outside the database so a restored backup obeys it.

A backup made before a patient asked to be forgotten still holds their rows. Restoring it would
bring them back, so every forget first appends the patient's random id to this list, and each
start forgets again whichever listed ids the database holds. The list lives apart from the
data (like the master key), so restoring the data folder does not roll it back.

It holds random ids only, one per line, never a name, an account or a time. On its own it says
nothing about anyone; beside a backup made before the forget, it only says that the person
asked to be forgotten, which is what it is for.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from storage.errors import StoreError

HEADER = (
    "# tbbot: random ids of forgotten patients, one per line. Each start forgets them again if\n"
    "# a restored backup brought them back. Keep it apart from the database; never edit it.\n"
)
_ID = re.compile(r"^[0-9a-f]{32}$")


class ForgottenList:
    """An append-only file of patient ids (`storage.sealed.new_id`: 32 hex digits)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def add(self, patient_id: str) -> None:
        """Append `patient_id`, durably (fsync), before the database forgets the patient.

        Lines are appended with ``O_APPEND``, so processes forgetting at once never mix their
        lines. A failure raises `StoreError`, and the caller forgets nothing: a forget that a
        restore could undo is not one we tell the patient about.
        """
        if not _ID.match(patient_id):
            raise ValueError("not a patient id")
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                if os.fstat(fd).st_size == 0:
                    os.write(fd, HEADER.encode("ascii"))
                os.write(fd, f"{patient_id}\n".encode("ascii"))
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise StoreError(
                f"the forgotten list {self.path} could not be written ({exc.strerror}); "
                "nothing was forgotten"
            ) from None

    def ids(self) -> list[str]:
        """Every listed id, oldest first; none when the file does not exist yet."""
        try:
            text = self.path.read_text(encoding="ascii")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise StoreError(f"the forgotten list {self.path} cannot be read: {exc}") from None
        return [line for line in text.splitlines() if _ID.match(line)]
