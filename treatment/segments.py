"""The regimens of an enrolment in order: a segment from the start, and one more per switch
(`treatment.switching`). The plan (`treatment.plan`) walks each segment with its regimen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from treatment.catalogue import Catalogue, load_catalogue
from treatment.enrolment import Enrolment
from treatment.regimen import Regimen


@dataclass(frozen=True, slots=True)
class Segment:
    """The stretch of an enrolment during which one regimen is followed."""

    number: int
    regimen: Regimen
    start: date
    end: date | None
    times: tuple[time, ...]


def segments(enrolment: Enrolment, catalogue: Catalogue | None = None) -> tuple[Segment, ...]:
    """The enrolment's regimens in order: the first from the start, one per switch."""
    catalogue = catalogue or load_catalogue()
    starts: list[tuple[date, Regimen, tuple[time, ...]]] = [
        (enrolment.start, enrolment.regimen(catalogue), enrolment.times)
    ]
    for switch in enrolment.switches:
        regimen = switch.custom_regimen or catalogue.get(switch.regimen_id)
        starts.append((switch.effective, regimen, switch.times or starts[-1][2]))
    return tuple(
        Segment(
            number=i,
            regimen=regimen,
            start=start,
            end=starts[i + 1][0] if i + 1 < len(starts) else None,
            times=times,
        )
        for i, (start, regimen, times) in enumerate(starts)
    )
