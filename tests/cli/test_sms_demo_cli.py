"""`tbbot demo --channel sms`: the conversation as the phone shows it, with what each SMS costs."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.sms.demo import sms_demo

TBBOT = Path(sys.executable).with_name("tbbot")
HEADING = re.compile(
    r"──── SMS from the bot \((\d+) segments?, (GSM-7|UCS-2), \d+ characters\) ────"
)
# Questions asked only at some hours or for some regimens: doses already due since the first
# one ("you should have taken N doses"), and which tablets the patient has ("combined tablets").
EARLIER_DOSES = "应服药"
TABLET_KINDS = "复合片"


def script() -> list[str]:
    """Setup from a Chinese number (the privacy notice comes in Chinese first, and the number's
    time zone is offered to confirm), a dose time two hours from now in Shanghai, then a jump
    to just after it."""
    shanghai = datetime.now(ZoneInfo("Asia/Shanghai"))
    dose = (shanghai + timedelta(hours=2)).replace(minute=0)
    return [
        "START",
        "1",  # 我同意
        "小敏",
        "1",  # yes, Shanghai's time (the number's)
        "1",  # 6 months daily (2+4)
        "1",  # today
        dose.strftime("%H:%M"),
        "1",  # skip the weight
        "1",  # call them "维生素"
        "1",  # start
        "+3h",
        "吃了",
        "STOP",
        "1",
    ]


def answering(lines: list[str], out: io.StringIO) -> Callable[[], str]:
    """Types the script; answers "all taken" if the demo asks about doses already due (when the
    dose time chosen is already past today in Shanghai, as just after midnight), and the first
    kind of tablets when it asks which ones the patient has."""
    pending = list(lines)

    def read() -> str:
        shown = out.getvalue()
        last = shown[shown.rfind("──── SMS from the bot") :]
        if not last.endswith("<answered>") and (
            (EARLIER_DOSES in last and "全部服了" in last) or TABLET_KINDS in last
        ):
            out.write("<answered>")
            return "1\n"
        return pending.pop(0) + "\n" if pending else ""

    return read


async def test_the_sms_demo_shows_each_text_with_its_segments_and_encoding() -> None:
    out = io.StringIO()
    assert await sms_demo(1.0, None, out=out, read=answering(script(), out)) == 0
    shown = out.getvalue()
    headings = HEADING.findall(shown)
    assert len(headings) >= 10
    assert all(int(count) <= 3 for count, _ in headings)
    reminder = shown.index("维生素？\n1 已完成\n2 稍后\n3 今天不做\n4 不舒服")
    heading = shown.rfind("──── SMS from the bot", 0, reminder)
    assert shown[heading:reminder].startswith("──── SMS from the bot (1 segment, UCS-2,")
    assert "不会再给这个号码发消息了" in shown  # STOP, confirmed once
    after_stop = shown[shown.index("不会再给这个号码发消息了") :]
    assert after_stop.count("──── SMS from the bot") == 0  # "1" after STOP gets silence


def test_the_sms_demo_is_a_choice_of_tbbot_demo(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(TBBOT), "demo", "--channel", "sms"],
        input="START\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert HEADING.search(result.stdout)
