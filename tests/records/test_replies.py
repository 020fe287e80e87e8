"""The records as replies: files with neutral names in discreet mode, words without files."""

from __future__ import annotations

import io
import json

from PIL import Image

from bot.i18n import translator
from bot.records.replies import (
    calendar_reply,
    export_replies,
    helper_report_reply,
    report_reply,
    report_text,
)
from scheduler.channels import Attachment
from tests.records import scenario

MEDICAL = ("treatment", "dose", "report", "TB", "medicine", "side")


def test_calendar_is_a_picture_of_this_month_or_a_week_a_line() -> None:
    record = scenario.mina("en")
    picture = calendar_reply(record, translator("en"), pictures=True)
    assert picture.attachment is not None and picture.attachment.kind is Attachment.PHOTO
    assert picture.attachment.filename == "calendar-2026-07.png"
    assert Image.open(io.BytesIO(picture.attachment.data)).format == "PNG"
    assert picture.text == "Your doses in July 2026" and picture.sensitive
    words = calendar_reply(record, translator("en"), pictures=False)
    assert words.attachment is None and words.text.startswith("July 2026\n")


def test_discreet_names_and_captions_say_nothing_medical() -> None:
    record = scenario.mina("en", discreet=True)
    t = translator("en")
    replies = [
        calendar_reply(record, t, pictures=True),
        report_reply(record, t, translator("ko")),
        *export_replies(record, t, documents=True),
    ]
    for reply in replies:
        assert reply.attachment is not None and reply.sensitive
        shown = f"{reply.attachment.filename} {reply.text}".lower()
        assert not any(word.lower() in shown for word in MEDICAL), shown
    assert [r.attachment.filename for r in replies[1:] if r.attachment] == [
        "notes-2026-07-20.pdf",
        "notes-2026-07-20.csv",
        "notes-2026-07-20.json",
    ]
    caption, attachment = helper_report_reply(record, translator("ko"), translator("en"), "민아")
    assert attachment.filename == "notes-2026-07-20.pdf" and "민아" in caption


def test_report_names_its_language_and_the_export_is_valid_json() -> None:
    record = scenario.mina("ko")
    reply = report_reply(record, translator("ko"), translator("zh_Hans"))
    assert reply.attachment is not None and reply.attachment.data.startswith(b"%PDF-")
    assert reply.attachment.filename == "treatment-report-2026-07-20.pdf"
    assert "简体中文" in reply.text
    table, bundle = export_replies(record, translator("ko"), documents=True)
    assert table.attachment is not None and bundle.attachment is not None
    assert bundle.attachment.filename.endswith(".fhir.json")
    assert json.loads(bundle.attachment.data)["resourceType"] == "Bundle"


def test_without_files_the_report_is_a_summary_and_the_export_says_why_not() -> None:
    record = scenario.mina("en")
    summary = report_text(record, translator("en"))
    assert summary.attachment is None and "Doses counted: 132 of 273." in summary.text
    (refusal,) = export_replies(record, translator("en"), documents=False)
    assert refusal.attachment is None and "cannot" in refusal.text
