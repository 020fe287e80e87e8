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
    "START",  # from a Chinese number: the privacy notice comes in Chinese first
    "1",  # 我同意
    "小敏",
    "1",  # Seoul
    "1",  # standard treatment
    "1",  # today
    "20:00",
    "1",  # skip the weight
    "1",  # discreet, "维生素"
    "1",  # start
    "+12h",
    "吃了",
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
    reminder = shown.index("维生素？\n1 已完成\n2 稍后\n3 今天不做\n4 不舒服")
    heading = shown.rfind("──── SMS from the bot", 0, reminder)
    assert shown[heading:reminder].startswith("──── SMS from the bot (1 segment, UCS-2,")
    assert "不会再给这个号码发消息了" in shown  # STOP, confirmed once
    after_stop = shown[shown.index("不会再给这个号码发消息了") :]
    assert after_stop.count("──── SMS from the bot") == 0  # "1" after STOP gets silence
