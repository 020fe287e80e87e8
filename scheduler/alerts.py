"""What a patient's helpers are told, and how an alert passes from one helper to the next.

An *incident* is one happening: a dose still unanswered when its window closed, several doses
missed in a row, a red-flag symptom, a crisis answer, the patient unreachable or silent for
days, a risk of treatment interruption. Each is told to the first helper (in the order the
patient linked them) who wants that kind of alert. If nobody takes it on within the patient's
escalation delay it goes to the next one; "Can't reach" passes it on at once; "I'll reach out"
ends it, and the helpers told before hear that it is handled.

Everything here runs in the caller's transaction, next to what caused it, so an alert is
written exactly once per happening (the incident's dedupe key) and never without its cause.
The patient decides, per helper, what that helper is told (`HelperPrefs`), and can pause all
alerts (``consent.helper_alerts``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from scheduler.compose import Composer, Note
from scheduler.doses import DoseSnapshot
from scheduler.outbox import Kind, Payload
from scheduler.preferences import Preferences
from storage.errors import NotFound
from storage.records import (
    PATIENT,
    DoseEvent,
    DoseOutcome,
    DoseSlot,
    Helper,
    HelperState,
    Incident,
    IncidentState,
    OutboxMessage,
    Patient,
    ReportedVia,
    SlotState,
    helper_recipient,
)
from storage.store import Repositories

MAX_HELPERS = 3
INCIDENT_LIFETIME = timedelta(days=3)
SILENT_AFTER = timedelta(days=3)
MISSED_RUN_CHOICES = (2, 3, 5)
SUMMARY_EVERY = timedelta(days=7)


class AlertKind(StrEnum):
    UNANSWERED = "unanswered"
    MISSED_RUN = "missed_run"
    RED_FLAG = "red_flag"
    CRISIS = "crisis"
    UNREACHABLE = "unreachable"
    SILENT = "silent"
    INTERRUPTION = "interruption"


# The switch of `HelperPrefs` that decides each kind. A crisis answer in the mood check-in is
# as urgent as a red-flag symptom; silence is the slow form of being unreachable.
SWITCH_OF: Mapping[AlertKind, str] = {
    AlertKind.UNANSWERED: "unanswered",
    AlertKind.MISSED_RUN: "missed_run",
    AlertKind.RED_FLAG: "red_flag",
    AlertKind.CRISIS: "red_flag",
    AlertKind.UNREACHABLE: "unreachable",
    AlertKind.SILENT: "unreachable",
    AlertKind.INTERRUPTION: "interruption",
}


@dataclass(frozen=True)
class HelperPrefs:
    """One helper's settings, chosen by the patient; stored in the helper's sealed
    ``permissions``. Defaults are those of the product card; `missed_run` 0 is off."""

    unanswered: bool = True
    missed_run: int = 3
    red_flag: bool = True
    unreachable: bool = True
    interruption: bool = True
    weekly: bool = False
    details: bool = False
    """Whether symptom names may be shown to this helper (never in discreet mode)."""
    report: bool = False
    """Whether the patient may send this helper their treatment report (`/report`)."""
    visits: bool = False
    """Whether this helper may note visits and tests for the patient (`/visitfor`)."""
    regimen: bool = False
    """Whether this helper may enter a regimen for the patient to confirm (`/regimenfor`)."""
    shown_as: str = ""
    """The patient's name as this helper sees it (the patient picks it)."""
    language: str = ""
    """The helper's language, from their client when they accepted."""

    @classmethod
    def of(cls, helper: Helper) -> HelperPrefs:
        return cls.of_mapping(helper.permissions)

    @classmethod
    def of_mapping(cls, raw: Mapping[str, Any]) -> HelperPrefs:
        """Read tolerantly: a missing or malformed value takes its default, so a bad setting
        can only ever fall back to telling the helper."""
        values: dict[str, Any] = {}
        for item in fields(cls):
            value = raw.get(item.name)
            default = item.default
            if item.name == "missed_run":
                ok = value in (0, *MISSED_RUN_CHOICES)
            else:
                ok = type(value) is type(default)
            if ok:
                values[item.name] = value
        return cls(**values)

    def to_permissions(self) -> dict[str, Any]:
        return asdict(self)

    def wants(self, kind: AlertKind, facts: Mapping[str, Any]) -> bool:
        if kind is AlertKind.MISSED_RUN:
            return self.missed_run > 0 and facts.get("run") == self.missed_run
        return bool(getattr(self, SWITCH_OF[kind]))

    def toggled(self, switch: str) -> HelperPrefs:
        if switch == "missed_run":
            return replace(self, missed_run=0 if self.missed_run else 3)
        flipped: dict[str, Any] = {switch: not getattr(self, switch)}
        return replace(self, **flipped)


class Outcome(StrEnum):
    """What a helper's press on an alert did."""

    TAKEN = "taken"  # they took it on
    ALREADY = "already"  # another helper had taken it on
    PASSED = "passed"  # passed to the next helper
    NOBODY = "nobody"  # no helper is left to pass it to
    OVER = "over"  # the incident ended (too old)
    BUSY = "busy"  # changed by someone else at the same moment: try again


async def raise_alert(
    tx: Repositories,
    composer: Composer,
    patient: Patient,
    kind: AlertKind,
    key: str,
    facts: Mapping[str, Any],
    now: datetime,
) -> Incident | None:
    """Open an incident and tell its first helper. None if nobody is to be told.

    1. Nothing while the patient has helper alerts off (paused, or no helper confirmed).
    2. The helpers to tell: active ones who want this kind, in the order they were linked,
       except those listed in ``facts["skip"]`` (told about the same thing another way).
    3. Open the incident under ``<kind>:<key>`` (`key` is made of random ids): a happening
       seen twice (a retried close, a second worker) opens nothing the second time.
    4. Tell the first helper (see `_tell_next`).
    """
    if not patient.consent.helper_alerts:
        return None
    order = [
        helper.id
        for helper in await tx.helpers.for_patient(patient.id)
        if helper.state is HelperState.ACTIVE
        and helper.id not in facts.get("skip", ())
        and HelperPrefs.of(helper).wants(kind, facts)
    ]
    if not order:
        return None
    detail = {"kind": kind.value, "facts": dict(facts), "order": order, "told": [], "passed": []}
    incident = await tx.incidents.open(patient.id, f"{kind.value}:{key}", detail, next_at=None)
    if incident is None:
        return None
    await _tell_next(tx, composer, patient, incident, now)
    return incident


async def escalate(tx: Repositories, composer: Composer, incident: Incident, now: datetime) -> bool:
    """The incident's timer came due: tell the next helper, or end it once it is too old.
    False if it changed meanwhile (another worker, a helper's press) or the patient is gone."""
    try:
        patient = await tx.patients.get(incident.patient_id)
    except NotFound:
        return False
    if now >= incident.created_at + INCIDENT_LIFETIME:
        return await tx.incidents.change(
            incident, state=IncidentState.CLOSED, next_at=None, detail=incident.detail
        )
    return await _tell_next(tx, composer, patient, incident, now)


async def acknowledge(
    tx: Repositories, composer: Composer, incident: Incident, helper: Helper, now: datetime
) -> Outcome:
    """ "I'll reach out" from `helper`, who must have been told (the caller checks): the
    incident is handled, escalation stops, and the other helpers told are informed."""
    detail = dict(incident.detail)
    if incident.state is IncidentState.HANDLED:
        return Outcome.TAKEN if detail.get("by") == helper.id else Outcome.ALREADY
    if incident.state is IncidentState.CLOSED or now >= incident.created_at + INCIDENT_LIFETIME:
        return Outcome.OVER
    detail["by"] = helper.id
    if not await tx.incidents.change(
        incident, state=IncidentState.HANDLED, next_at=None, detail=detail
    ):
        return Outcome.BUSY
    patient = await tx.patients.get(incident.patient_id)
    others = await _active(tx, patient.id, [h for h in detail["told"] if h != helper.id])
    await tx.outbox.enqueue_many(
        [
            helper_alert_row(
                patient.id,
                other.id,
                f"handled:{incident.id}:{other.id}",
                composer.helper_note(patient, other, Note.HANDLED),
                now,
            )
            for other in others
        ]
    )
    return Outcome.TAKEN


async def pass_on(
    tx: Repositories, composer: Composer, incident: Incident, helper: Helper, now: datetime
) -> Outcome:
    """ "Can't reach" from `helper`, who must have been told: the next helper is told now."""
    detail = dict(incident.detail)
    if incident.state is IncidentState.HANDLED:
        return Outcome.ALREADY
    if incident.state is IncidentState.CLOSED or now >= incident.created_at + INCIDENT_LIFETIME:
        return Outcome.OVER
    detail["passed"] = sorted({*detail.get("passed", []), helper.id})
    patient = await tx.patients.get(incident.patient_id)
    waiting = await _waiting(tx, patient, detail)
    if not waiting:
        changed = await tx.incidents.change(
            incident, state=incident.state, next_at=incident.next_at, detail=detail
        )
        return Outcome.NOBODY if changed else Outcome.BUSY
    passed = replace(incident, detail=detail)
    return Outcome.PASSED if await _tell_next(tx, composer, patient, passed, now) else Outcome.BUSY


def was_told(incident: Incident, helper: Helper) -> bool:
    """Whether `helper` received this incident: the only helpers whose presses count."""
    return incident.patient_id == helper.patient_id and helper.id in incident.detail.get("told", [])


async def _tell_next(
    tx: Repositories, composer: Composer, patient: Patient, incident: Incident, now: datetime
) -> bool:
    """Tell the next helper in the incident's order who is still active.

    1. Skip helpers removed since the incident began; tell nobody more while the patient has
       paused alerts.
    2. Queue the alert to the first one left (dedupe ``incident:<id>:<helper id>``).
    3. Arm the next escalation after the patient's delay while others remain; when nobody
       remains, wake once more at the end of the incident's life to close it.
    All conditional on the incident's version: if it changed meanwhile, nothing is queued.
    """
    detail = dict(incident.detail)
    told = list(detail.get("told", []))
    waiting = await _waiting(tx, patient, detail)
    if not waiting:
        end = incident.created_at + INCIDENT_LIFETIME
        return await tx.incidents.change(
            incident, state=IncidentState.OPEN, next_at=end, detail=detail
        )
    helper = waiting[0]
    told.append(helper.id)
    detail["told"] = told
    more = len(waiting) > 1
    next_at = (
        now + Preferences.of(patient).escalation_delay()
        if more
        else incident.created_at + INCIDENT_LIFETIME
    )
    if not await tx.incidents.change(
        incident, state=IncidentState.OPEN, next_at=next_at, detail=detail
    ):
        return False
    told_incident = replace(incident, detail=detail)
    payload = composer.helper_alert(patient, helper, told_incident)
    await tx.outbox.enqueue(
        helper_alert_row(patient.id, helper.id, f"incident:{incident.id}:{helper.id}", payload, now)
    )
    return True


async def _waiting(tx: Repositories, patient: Patient, detail: Mapping[str, Any]) -> list[Helper]:
    """The helpers of the incident's order not told yet and still active; nobody while the
    patient has paused alerts."""
    if not patient.consent.helper_alerts:
        return []
    told = detail.get("told", [])
    return await _active(tx, patient.id, [h for h in detail["order"] if h not in told])


async def _active(tx: Repositories, patient_id: str, helper_ids: Sequence[str]) -> list[Helper]:
    """The helpers among `helper_ids` still active, in that order."""
    helpers = {h.id: h for h in await tx.helpers.for_patient(patient_id)}
    return [
        helpers[h]
        for h in helper_ids
        if h in helpers and helpers[h].state is HelperState.ACTIVE and helpers[h].channel
    ]


def helper_alert_row(
    patient_id: str, helper_id: str, dedupe_key: str, payload: Payload, now: datetime
) -> OutboxMessage:
    """An outbox row to one helper, due now, with the urgency of a helper alert."""
    return OutboxMessage(
        patient_id=patient_id,
        recipient=helper_recipient(helper_id),
        kind=Kind.HELPER_ALERT.value,
        payload=payload.to_dict(),
        dedupe_key=dedupe_key,
        not_before=now,
        priority=int(Kind.HELPER_ALERT.priority),
    )


# -- what a closed dose window may tell helpers ------------------------------------------------


def missed_run(slots: Sequence[DoseSlot]) -> int:
    """How many of the latest answered-or-closed slots in a row were not taken (missed, no
    reply, or "not today"). `slots` in due order; open and cancelled slots are passed over."""
    run = 0
    for slot in reversed(slots):
        if slot.state in (SlotState.PENDING, SlotState.REMINDED, SlotState.CANCELLED):
            continue
        if slot.state is SlotState.TAKEN:
            break
        run += 1
    return run


def last_answer(events: Sequence[DoseEvent]) -> DoseEvent | None:
    """The latest dose event the patient gave themselves (not a window closing unanswered):
    the end of a silence, and the marker that makes "once per silence" keys."""
    answers = [e for e in events if e.via is not ReportedVia.NO_REPLY]
    return max(answers, key=lambda e: e.recorded_at, default=None)


async def after_close(
    tx: Repositories,
    composer: Composer,
    patient: Patient,
    slot: DoseSlot,
    events: Sequence[DoseEvent],
    warnings: Sequence[str],
    now: datetime,
) -> int:
    """The alerts a dose window that closed unanswered may raise; how many incidents opened.
    `events` are the patient's dose events, this close's included.

    1. Several doses missed in a row: the run that ends here, for helpers whose number it is.
    2. The dose itself, unanswered: for helpers who want each one (and were not just told
       about the run, which says more).
    3. Silence: no answer from the patient for `SILENT_AFTER`, once per silence (keyed by
       the last answer, or the first dose if there was none).
    4. Interruption risk: each warning of the clinical rules in `warnings` (reason codes),
       once per lapse (keyed by the last dose taken before it).
    """
    opened = 0
    recent = await tx.doses.slots_between(patient.id, now - timedelta(days=21), now)
    run = missed_run([s for s in recent if s.enrolment_id == slot.enrolment_id])
    facts = {"slot": slot.id, "local": DoseSnapshot.of(slot).local.isoformat(), "run": run}
    run_helpers: set[str] = set()
    if run in MISSED_RUN_CHOICES:
        incident = await raise_alert(
            tx, composer, patient, AlertKind.MISSED_RUN, slot.id, facts, now
        )
        if incident is not None:
            opened += 1
            run_helpers = set(incident.detail["order"])
            await _tell_patient(tx, composer, patient, incident, now)
    unanswered = {**facts, "skip": sorted(run_helpers)}
    opened += (
        await raise_alert(tx, composer, patient, AlertKind.UNANSWERED, slot.id, unanswered, now)
        is not None
    )
    last = last_answer(events)
    quiet_since = last.recorded_at if last is not None else _first_due(recent, slot)
    if now - quiet_since >= SILENT_AFTER:
        marker = last.id if last is not None else slot.enrolment_id
        days = (now - quiet_since).days
        opened += (
            await raise_alert(tx, composer, patient, AlertKind.SILENT, marker, {"days": days}, now)
            is not None
        )
    taken = [e for e in events if e.outcome is DoseOutcome.TAKEN]
    lapse_marker = max(taken, key=lambda e: e.recorded_at).id if taken else slot.enrolment_id
    for reason in warnings:
        opened += (
            await raise_alert(
                tx,
                composer,
                patient,
                AlertKind.INTERRUPTION,
                f"{lapse_marker}:{reason}",
                {"reason": reason},
                now,
            )
            is not None
        )
    return opened


async def _tell_patient(
    tx: Repositories, composer: Composer, patient: Patient, incident: Incident, now: datetime
) -> None:
    """Tell the patient which helper heard about the missed doses (the first one told)."""
    fresh = await tx.incidents.get(patient.id, incident.id)
    told = fresh.detail.get("told") or []
    if not told:
        return
    helper = await tx.helpers.get(patient.id, str(told[0]))
    await tx.outbox.enqueue(
        OutboxMessage(
            patient_id=patient.id,
            recipient=PATIENT,
            kind=Kind.NOTICE.value,
            payload=composer.patient_told(patient, helper).to_dict(),
            dedupe_key=f"told:{incident.id}",
            not_before=now,
            priority=int(Kind.NOTICE.priority),
        )
    )


def _first_due(recent: Sequence[DoseSlot], slot: DoseSlot) -> datetime:
    same = [s.due_at for s in recent if s.enrolment_id == slot.enrolment_id]
    return min(same, default=slot.due_at)
