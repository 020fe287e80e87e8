"""Repositories: each returns records (`storage.records`), never ORM rows or ciphertext."""

from storage.repositories.audit import AuditRepository
from storage.repositories.conversations import ConversationRepository
from storage.repositories.doses import DoseRepository
from storage.repositories.enrolments import EnrolmentRepository
from storage.repositories.helpers import HelperRepository
from storage.repositories.identities import IdentityRepository
from storage.repositories.incidents import IncidentRepository
from storage.repositories.metrics import MetricsRepository
from storage.repositories.mood import MoodRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.patients import PatientRepository
from storage.repositories.pill_stock import PillStockRepository
from storage.repositories.planning import PlanningRepository
from storage.repositories.side_effects import SideEffectRepository
from storage.repositories.sms import SmsRepository
from storage.repositories.timers import TimerRepository

__all__ = [
    "AuditRepository",
    "ConversationRepository",
    "DoseRepository",
    "EnrolmentRepository",
    "HelperRepository",
    "IdentityRepository",
    "IncidentRepository",
    "MetricsRepository",
    "MoodRepository",
    "OutboxRepository",
    "PatientRepository",
    "PillStockRepository",
    "PlanningRepository",
    "SideEffectRepository",
    "SmsRepository",
    "TimerRepository",
]
