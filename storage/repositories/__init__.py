"""Repositories: each returns records (`storage.records`), never ORM rows or ciphertext."""

from storage.repositories.audit import AuditRepository
from storage.repositories.cleanups import CleanupRepository
from storage.repositories.conversations import ConversationRepository
from storage.repositories.dose_timers import DoseTimerRepository
from storage.repositories.doses import DoseRepository
from storage.repositories.enrolments import EnrolmentRepository
from storage.repositories.helpers import HelperRepository
from storage.repositories.identities import IdentityRepository
from storage.repositories.incidents import IncidentRepository
from storage.repositories.measurements import MeasurementRepository
from storage.repositories.metrics import MetricsRepository
from storage.repositories.mood import MoodRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.pace import PaceRepository
from storage.repositories.patients import PatientRepository
from storage.repositories.pill_stock import PillStockRepository
from storage.repositories.planning import PlanningRepository
from storage.repositories.retention import RetentionRepository
from storage.repositories.side_effects import SideEffectRepository
from storage.repositories.sms import SmsRepository
from storage.repositories.telegram_updates import TelegramUpdateRepository
from storage.repositories.timers import TimerRepository

__all__ = [
    "AuditRepository",
    "CleanupRepository",
    "ConversationRepository",
    "DoseRepository",
    "DoseTimerRepository",
    "EnrolmentRepository",
    "HelperRepository",
    "IdentityRepository",
    "IncidentRepository",
    "MeasurementRepository",
    "MetricsRepository",
    "MoodRepository",
    "OutboxRepository",
    "PaceRepository",
    "PatientRepository",
    "PillStockRepository",
    "PlanningRepository",
    "RetentionRepository",
    "SideEffectRepository",
    "SmsRepository",
    "TelegramUpdateRepository",
    "TimerRepository",
]
