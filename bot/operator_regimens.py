"""Custom regimens the operator adds: TOML files in `TBBOT_REGIMENS_DIR`, offered in set-up.

A clinic that prescribes the same regimen to many patients (a programme's own longer regimen)
writes it once in the custom regimen format (`treatment/custom.py`, docs/regimens.md), checks
it with `tbbot plan --file`, and drops it in the folder. Set-up then lists it after the
catalogue; a patient who picks it sees it repeated back in plain words and confirms it, and
the enrolment keeps the whole regimen in its sealed plan, so removing the file later changes
nothing for patients already on it.

Files are read in name order. A file that fails validation is left out and logged with its
file name and the field (operator configuration, never patient data), so one typo does not
stop the bot; `tbbot plan --file` shows the same message.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from treatment.custom import build_custom
from treatment.errors import RegimenFileError

logger = logging.getLogger(__name__)

ENV = "TBBOT_REGIMENS_DIR"
PREFIX = "op-"


@dataclass(frozen=True, slots=True)
class OperatorRegimen:
    slug: str
    name: str
    words: dict[str, Any]
    """The file's content in the words of `treatment.custom`, as set-up keeps a prescription."""


def folder() -> Path | None:
    value = os.environ.get(ENV)
    return Path(value) if value else None


@functools.cache
def load_operator_regimens(where: Path | None = None) -> tuple[OperatorRegimen, ...]:
    """The valid regimens of `where` (default: `TBBOT_REGIMENS_DIR`), in file-name order."""
    where = where if where is not None else folder()
    if where is None:
        return ()
    try:
        files = sorted(p for p in where.iterdir() if p.suffix == ".toml")
    except OSError as exc:
        logger.error("operator regimens folder unusable (%s)", type(exc).__name__)
        return ()
    found: list[OperatorRegimen] = []
    for path in files:
        try:
            found.append(_read(path))
        except RegimenFileError as exc:
            logger.error("operator regimen left out: %s", exc.message)
    return tuple(found)


def _read(path: Path) -> OperatorRegimen:
    try:
        words = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RegimenFileError(path.name, "(file)", type(exc).__name__) from None
    except tomllib.TOMLDecodeError as exc:
        raise RegimenFileError(path.name, "(file)", f"not valid TOML: {exc}") from None
    # Months are calendar months from the start: checked here from today, counted again
    # from the patient's own start date at set-up.
    regimen = build_custom(words, path.name, datetime.now(UTC).date())
    slug = PREFIX + re.sub(r"[^A-Za-z0-9_.-]", "_", path.stem)
    return OperatorRegimen(slug=slug, name=regimen.name, words=dict(words))
