"""Linking a helper the way the `/helper` conversation does, in one call, for tests that
need a linked helper but are not about linking (those drive the conversation itself)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from storage.records import Consent, Helper
from storage.store import Store


async def link_helper(
    store: Store,
    patient_id: str,
    address: str,
    *,
    alias: str = "Jisoo",
    consent: bool = True,
    **prefs: Any,
) -> Helper:
    """Invite, open, accept and confirm a helper at Telegram account `address`; with
    `consent` the patient's helper alerts are on (as confirming one does)."""
    helper = await store.helpers.add(patient_id, alias=alias, permissions=prefs)
    now = store.context.clock()
    _, code = await store.helpers.invite(patient_id, helper.id, expires_at=now + timedelta(days=1))
    opened = await store.helpers.open(code, "telegram", address)
    assert opened is not None
    accepted = await store.helpers.accept(opened.invite.id, "telegram", address, address)
    assert accepted is not None
    active = await store.helpers.confirm(patient_id, helper.id)
    assert active is not None
    if consent:
        patient = await store.patients.get(patient_id)
        await store.patients.update(replace(patient, consent=Consent(helper_alerts=True)))
    return active
