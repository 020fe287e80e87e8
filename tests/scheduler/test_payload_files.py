"""A file in an outbox payload: stored and read back whole, never shown in a repr, only on a
new message, with a caption of a length a chat shows."""

from __future__ import annotations

import json

import pytest

from scheduler.channels import Attachment
from scheduler.outbox import MAX_CAPTION_CHARS, AttachedFile, Payload

PDF = AttachedFile(Attachment.DOCUMENT, b"%PDF-1.7 \x00\xff notes", "notes.pdf", "application/pdf")


def test_a_file_survives_the_stores_json_round_trip() -> None:
    payload = Payload.message("Your notes.", file=PDF)
    stored = json.loads(json.dumps(payload.to_dict()))
    back = Payload.from_dict(stored)
    assert back.file == PDF and back.text == "Your notes."
    assert Payload.from_dict(Payload.message("plain").to_dict()).file is None


def test_the_repr_shows_the_size_never_the_content() -> None:
    shown = repr(Payload.message("Your notes.", file=PDF))
    assert f"{len(PDF.data)} bytes" in shown and "PDF" not in shown and "notes" not in shown


def test_a_file_goes_only_with_a_new_message_and_a_short_caption() -> None:
    assert Payload.message("", file=PDF).text == ""  # a file needs no caption
    with pytest.raises(ValueError, match="caption"):
        Payload.message("x" * (MAX_CAPTION_CHARS + 1), file=PDF)
    with pytest.raises(ValueError, match="only a new message"):
        Payload(Payload.edit(5, "text").action, "text", target_message_id=5, file=PDF)
    with pytest.raises(ValueError, match="plain file name"):
        AttachedFile(Attachment.DOCUMENT, b"x", "../notes.pdf", "application/pdf")
    with pytest.raises(ValueError, match="content"):
        AttachedFile(Attachment.PHOTO, b"", "calendar.png", "image/png")
