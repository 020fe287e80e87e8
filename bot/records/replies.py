"""The records as replies: a file where the channel takes files, words where it does not.

File names and captions are what a phone's gallery, downloads folder and notifications show
to anyone holding the phone, so in discreet mode they name no illness and no medicine
("notes-2026-07-20.pdf", "Your notes."); the file itself is marked sensitive, so discreet
mode's deletion removes it from the chat like any other health message.

Rendering takes up to a second of CPU: callers run these in a worker thread.
"""

from __future__ import annotations

from datetime import date

from babel import Locale
from babel.dates import format_skeleton

from bot.dialogue.messages import Reply
from bot.i18n import Translator
from bot.records.calendar import month_png
from bot.records.export import csv_bytes, fhir_bytes
from bot.records.facts import Record
from bot.records.report import report_pdf
from bot.records.text import report_summary, text_calendar
from bot.texts import LANGUAGE_NAMES
from scheduler.channels import Attachment
from scheduler.outbox import AttachedFile

PNG = "image/png"
PDF = "application/pdf"
CSV = "text/csv"
FHIR_JSON = "application/fhir+json"


def _month(t: Translator, day: date) -> str:
    return format_skeleton("yMMMM", day, locale=Locale.parse(t.locale))


def calendar_reply(record: Record, t: Translator, *, pictures: bool) -> Reply:
    """This month's calendar: a picture, or a week a line of symbols."""
    today = record.today
    if not pictures:
        return Reply(text_calendar(record, t, today.year, today.month), sensitive=True)
    caption = (
        t._("Your month: {month}", month=_month(t, today))
        if record.discreet
        else t._("Your doses in {month}", month=_month(t, today))
    )
    png = month_png(record, t, today.year, today.month)
    name = f"calendar-{today:%Y-%m}.png"
    return Reply(caption, sensitive=True, attachment=AttachedFile(Attachment.PHOTO, png, name, PNG))


def report_reply(record: Record, t: Translator, language: Translator) -> Reply:
    """The PDF for a clinician in `language`; the caption in the patient's `t`."""
    pdf = report_pdf(record, language)
    name_of_language = LANGUAGE_NAMES.get(language.locale, language.locale)
    if record.discreet:
        name = f"notes-{record.today:%Y-%m-%d}.pdf"
        caption = t._("Your notes ({language}).", language=name_of_language)
    else:
        name = f"treatment-report-{record.today:%Y-%m-%d}.pdf"
        caption = t._(
            "Your treatment report ({language}). You can show it to a clinician or pass it on.",
            language=name_of_language,
        )
    return Reply(
        caption, sensitive=True, attachment=AttachedFile(Attachment.DOCUMENT, pdf, name, PDF)
    )


def report_text(record: Record, t: Translator) -> Reply:
    """The report where no file can go: a few lines, discreet when the patient is."""
    return Reply(report_summary(record, t, discreet=record.discreet), sensitive=True)


def helper_report_reply(
    record: Record, helper: Translator, language: Translator, shown_as: str
) -> tuple[str, AttachedFile]:
    """The caption (in the helper's language) and the PDF (in the language the patient
    picked) for a helper the patient allowed to have it."""
    pdf = report_pdf(record, language)
    if record.discreet:
        caption = helper._("{alias} shared some notes with you.", alias=shown_as)
        name = f"notes-{record.today:%Y-%m-%d}.pdf"
    else:
        caption = helper._("{alias} shared their treatment report with you.", alias=shown_as)
        name = f"treatment-report-{record.today:%Y-%m-%d}.pdf"
    return caption, AttachedFile(Attachment.DOCUMENT, pdf, name, PDF)


def export_replies(record: Record, t: Translator, *, documents: bool) -> list[Reply]:
    """Everything the bot holds, as a CSV and as a FHIR Bundle, or why it cannot be sent."""
    if not documents:
        return [
            Reply(
                t._(
                    "Your export is made of files, and files cannot be sent in this chat, "
                    "so I cannot send it here."
                )
            )
        ]
    stem = "notes" if record.discreet else "my-treatment-data"
    day = f"{record.today:%Y-%m-%d}"
    if record.discreet:
        table, bundle = t._("Your notes, as a table."), t._("Your notes, for a records system.")
    else:
        table = t._("Everything I hold about your treatment, as a table (CSV).")
        bundle = t._("The same, for a clinic's records system (FHIR).")
    return [
        Reply(
            table,
            sensitive=True,
            attachment=AttachedFile(
                Attachment.DOCUMENT, csv_bytes(record), f"{stem}-{day}.csv", CSV
            ),
        ),
        Reply(
            bundle,
            sensitive=True,
            attachment=AttachedFile(
                Attachment.DOCUMENT,
                fhir_bytes(record),
                f"{stem}-{day}.{'json' if record.discreet else 'fhir.json'}",
                FHIR_JSON,
            ),
        ),
    ]
