"""`tbbot demo --channel sms`: the conversation as the phone shows it, with what each SMS costs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

TBBOT = Path(sys.executable).with_name("tbbot")
HEADING = re.compile(
    r"──── SMS from the bot \((\d+) segments?, (GSM-7|UCS-2), \d+ characters\) ────"
)
SCRIPT = [
    "START",
    "2",  # English (a Chinese number: the languages are offered with Chinese first)
    "1",  # I agree
    "Mina",
    "1",  # Seoul
    "1",  # standard treatment
    "1",  # today
    "20:00",
    "1",  # skip the weight
    "1",  # discreet
    "1",  # vitamins
    "1",  # start
    "+12h",
    "taken",
    "STOP",
    "1",
]


def test_the_sms_demo_shows_each_text_with_its_segments_and_encoding(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(TBBOT), "demo", "--channel", "sms"],
        input="\n".join(SCRIPT) + "\n",
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    shown = result.stdout
    headings = HEADING.findall(shown)
    assert len(headings) >= 12
    assert all(int(count) <= 3 for count, _ in headings)
    reminder = shown.index("vitamins?\n1 Taken\n2 Later\n3 Skip today\n4 Unwell")
    heading = shown.rfind("──── SMS from the bot", 0, reminder)
    assert shown[heading:reminder].startswith("──── SMS from the bot (1 segment, GSM-7,")
    assert "no more messages from this number" in shown
    after_stop = shown[shown.index("no more messages from this number") :]
    assert after_stop.count("──── SMS from the bot") == 0  # "1" after STOP gets silence
