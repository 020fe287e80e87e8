"""What the operator allows the SMS channel: segments per text and per person per day, the pace
of the phone, and how long the gateway may stay silent before the health report says so.

Plain values, kept apart from the sender and the watch so that reading the settings does not
load the SMS stack (`tbbot run` without a gateway never imports it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

DEFAULT_MAX_SEGMENTS = 3
DEFAULT_DAILY_SEGMENTS = 40  # enrolment by SMS takes about 25 on its day
# Android asks the phone's owner to confirm beyond 30 SMS in 30 minutes unless raised
# (docs/sms.md); 10 a minute keeps a raised limit's carrier pace without bursts.
DEFAULT_PER_MINUTE = 10.0
DEFAULT_ALARM_MINUTES = 15
MENU_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class SmsPolicy:
    """The operator's caps: segments per message, and per person per UTC day."""

    max_segments: int = DEFAULT_MAX_SEGMENTS
    daily_segments: int = DEFAULT_DAILY_SEGMENTS
    menu_lifetime: timedelta = MENU_LIFETIME

    def __post_init__(self) -> None:
        if self.max_segments < 1 or self.daily_segments < self.max_segments:
            raise ValueError("caps: at least 1 segment per message, and a day holds a message")
