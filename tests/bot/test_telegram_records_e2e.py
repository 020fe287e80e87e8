"""The records over Telegram, end to end: the real python-telegram-bot uploads the calendar as
a photo and the report and the export as documents to the fake Bot API on 127.0.0.1; the
dialogue, store and dispatcher are the real ones."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import timedelta

import pytest
from PIL import Image
from pypdf import PdfReader

from tests.bot.telegram_support import JISOO, MINA, Telegram, onboard
from tests.bot.telegram_support import database as database
from tests.bot.telegram_support import telegram as telegram
from tests.fakebotapi import fake_bot_api as fake_bot_api
from tests.helper_links import link_helper

pytestmark = pytest.mark.asyncio

# Seconds to wait for a reply that renders a picture or a PDF: about one on a quiet machine,
# several while other suites share its two cores.
RENDER = 30


async def _taken_once(telegram: Telegram) -> None:
    await onboard(telegram, MINA, "en")
    await telegram.world.travel(timedelta(hours=11))
    await telegram.deliver()
    await telegram.press(MINA, "Taken")


def _squeezed(text: str) -> str:
    return "".join(text.replace("\x00", "").split())


async def test_progress_sends_the_month_as_a_photo(telegram: Telegram) -> None:
    await _taken_once(telegram)
    await telegram.say(MINA, "/progress", within=RENDER)

    words, picture = telegram.api.messages_in(MINA.id)[-2:]
    assert "Doses taken: 1 of 182" in words.text
    assert picture.photo is not None
    image = Image.open(io.BytesIO(picture.photo.data))
    assert image.format == "PNG" and image.width > 600
    # Mina chose discreet mode: the file and its caption name no treatment.
    assert picture.photo.filename.startswith("calendar-")
    assert picture.caption.startswith("Your month:")


async def test_report_asks_the_language_then_sends_the_pdf(telegram: Telegram) -> None:
    await _taken_once(telegram)
    await telegram.say(MINA, "/report")
    await telegram.press(MINA, "简体中文", within=RENDER)

    sent = telegram.api.messages_in(MINA.id)[-1]
    assert sent.document is not None and sent.document.data.startswith(b"%PDF-")
    assert sent.document.filename.startswith("notes-") and sent.document.filename.endswith(".pdf")
    assert sent.caption == "Your notes (简体中文)."
    text = _squeezed(PdfReader(io.BytesIO(sent.document.data)).pages[0].extract_text())
    assert _squeezed("已服次数：1 / 182") in text


async def test_export_sends_the_csv_and_the_fhir_bundle(telegram: Telegram) -> None:
    await _taken_once(telegram)
    await telegram.say(MINA, "/export", within=RENDER)

    table, bundle = telegram.api.messages_in(MINA.id)[-2:]
    assert table.document is not None and bundle.document is not None
    rows = table.document.data.decode("utf-8-sig").splitlines()
    assert rows[0] == "record,time,item,outcome,value,unit,note"
    assert sum(row.startswith("dose,") for row in rows) == 1
    resources = [e["resource"] for e in json.loads(bundle.document.data)["entry"]]
    doses = [r for r in resources if r["resourceType"] == "MedicationAdministration"]
    assert [d["status"] for d in doses] == ["completed"]


async def test_discreet_deletion_removes_the_report_from_the_chat(telegram: Telegram) -> None:
    await _taken_once(telegram)
    patient_id = await telegram.world.patient_id(str(MINA.id))
    store = telegram.world.store
    patient = await store.patients.get(patient_id)
    prefs = {**patient.preferences, "delete_after_minutes": 30}
    await store.patients.update(replace(patient, preferences=prefs))
    await telegram.say(MINA, "/report")
    await telegram.press(MINA, "English", within=RENDER)
    report = telegram.api.messages_in(MINA.id)[-1]
    assert report.document is not None

    await telegram.world.travel(timedelta(minutes=31))
    await telegram.deliver()

    deleted = [c.params["message_id"] for c in telegram.api.calls("deleteMessage", chat_id=MINA.id)]
    assert report.message_id in deleted
    assert all(m.message_id != report.message_id for m in telegram.api.messages_in(MINA.id))


async def test_a_helper_gets_the_report_only_once_the_patient_allows_it(
    telegram: Telegram,
) -> None:
    await _taken_once(telegram)
    patient_id = await telegram.world.patient_id(str(MINA.id))
    await link_helper(telegram.world.store, patient_id, str(JISOO.id), language="ko")
    await telegram.say(MINA, "/report")
    await telegram.press(MINA, "English", within=RENDER)
    # Off by default: no helper is offered, the report comes to Mina.
    assert telegram.api.messages_in(MINA.id)[-1].document is not None

    await telegram.say(MINA, "/helper")
    await telegram.press(MINA, "Jisoo")
    await telegram.press(MINA, "May get my treatment report")
    await telegram.say(MINA, "/report")
    await telegram.press(MINA, "English")
    await telegram.press(MINA, "Send it to Jisoo", within=RENDER)
    assert "sending the report to Jisoo" in telegram.bot_messages(MINA)[-1]
    await telegram.deliver()

    shared = telegram.api.messages_in(JISOO.id)[-1]
    assert shared.document is not None and shared.document.data.startswith(b"%PDF-")
    assert shared.document.filename.startswith("notes-")
    # In Jisoo's language, with the name Mina chose for her, and no word of treatment.
    assert shared.caption == "Mina 님이 메모를 공유했어요."
