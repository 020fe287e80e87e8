"""The records a patient takes away: time and memory to build them, beside the naive design.

Two treatments from `tests/records/scenario.py`: Mina's 9-month course seen mid-way (5 months
of events: misses, a late dose, a pause, two side effects, three check-ins, four weights, 79
changes of the tablet count) and a 24-month course seen at its end (720 doses, a miss a week,
a side effect every 45 days, a check-in every two weeks, a weight a month, 744 changes of the
tablet count). For each, in Korean (the widest glyph set of the three languages):

- the month picture (`calendar.month_png`) and the treatment card (`calendar.card_png`);
- the PDF report as built (`report.report_pdf`: the CJK face parsed once per process) and
  the naive way (`FPDF.add_font` for every report, which parses the face's 65,535 glyph
  widths each time);
- the export (FHIR Bundle validated by fhir.resources, and the CSV).

Each build is run `RUNS` times after a warm-up; wall and CPU medians, the PDF's size, and
the peak of Python allocations during one build (tracemalloc). The whole process's peak RSS
is printed at the end.
"""

from __future__ import annotations

import os
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable

from bot.i18n import translator
from bot.records import fonts, report
from bot.records.calendar import card_png, month_png
from bot.records.export import csv_bytes, fhir_bytes
from bot.records.facts import Record
from tests.records import scenario

RUNS = 7
LANGUAGE = "ko"


def _measure(build: Callable[[], bytes]) -> tuple[float, float, int, int]:
    """(median wall s, median CPU s, bytes out, peak traced bytes of one build)."""
    build()
    walls, cpus = [], []
    size = 0
    for _ in range(RUNS):
        wall, cpu = time.perf_counter(), time.process_time()
        size = len(build())
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    tracemalloc.start()
    build()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(walls), statistics.median(cpus), size, peak


def _naive_pdf(record: Record) -> bytes:
    saved = report._add_font

    def add_font_each_time(pdf: report.FPDF, language: str) -> None:
        pdf.add_font(
            report.FAMILY,
            fname=str(fonts.font_path()),
            collection_font_number=fonts.face(language),
        )

    report._add_font = add_font_each_time
    try:
        return report.report_pdf(record, translator(LANGUAGE))
    finally:
        report._add_font = saved


def main() -> None:
    t = translator(LANGUAGE)
    cases = {
        "9 months": scenario.mina(LANGUAGE),
        "24 months": scenario.long_course(24, LANGUAGE),
    }
    print(f"load average {os.getloadavg()[0]:.2f}; {RUNS} runs each, language {LANGUAGE}")
    print(f"{'treatment':<10} {'build':<26} {'wall':>9} {'cpu':>9} {'size':>10} {'peak mem':>10}")
    for name, record in cases.items():
        today = record.today
        builds: dict[str, Callable[[], bytes]] = {
            "month picture (PNG)": lambda r=record, d=today: month_png(r, t, d.year, d.month),
            "treatment card (PNG)": lambda r=record: card_png(r, t),
            "PDF report": lambda r=record: report.report_pdf(r, t),
            "PDF, add_font each time": lambda r=record: _naive_pdf(r),
            "FHIR Bundle (JSON)": lambda r=record: fhir_bytes(r),
            "CSV": lambda r=record: csv_bytes(r),
        }
        for label, build in builds.items():
            wall, cpu, size, peak = _measure(build)
            print(
                f"{name:<10} {label:<26} {wall * 1000:>7.0f}ms {cpu * 1000:>7.0f}ms "
                f"{size / 1024:>8.1f}KB {peak / 1024 / 1024:>8.1f}MB"
            )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"whole process: peak RSS {rss / 1024:.0f} MB")
