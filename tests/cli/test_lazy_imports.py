"""`tbbot run` starts without the record renderers' libraries: fpdf2 with fontTools, Pillow
and fhir.resources load on the first /progress, /report or /export (`bot.dialogue.records`),
not at start, where they cost more import time than the rest of the bot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RENDERERS = ("fpdf", "fontTools", "PIL", "fhir")

IMPORT_AND_REPORT = (
    "import sys\n"
    "import bot.cli, bot.app\n"
    f"print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({RENDERERS!r}))))\n"
)


def test_the_run_command_imports_no_renderer() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_AND_REPORT],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.stdout.strip() == ""


def test_the_renderers_module_still_loads_them() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            IMPORT_AND_REPORT.replace("bot.app\n", "bot.app, bot.records.replies\n"),
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.stdout.split() == sorted(RENDERERS)
