"""The run store (SQLAlchemy; SQLite by default, any URL by setting)."""
from core.store.entities import (
    ALL_METRICS,
    Claimant,
    ComparisonRecord,
    CurvePoint,
    CurveRecord,
    DiagnosisRecord,
    ExplorationRecord,
    RunRecord,
    TargetRecord,
    UploadRecord,
    hardware_words,
)
from core.store.repository import RunStore, set_process_role, set_process_worker
from core.store.schema import (
    ACTIVE_STATUSES,
    FINAL_STATUSES,
    METRIC_COLUMNS,
    SCHEMA_VERSION,
    STATUSES,
)

__all__ = ["ACTIVE_STATUSES", "RunStore", "set_process_role", "set_process_worker", "Claimant", "TargetRecord",
           "UploadRecord", "hardware_words", "RunRecord", "CurveRecord", "CurvePoint",
           "ExplorationRecord", "ComparisonRecord", "DiagnosisRecord", "ALL_METRICS", "METRIC_COLUMNS", "STATUSES",
           "FINAL_STATUSES", "SCHEMA_VERSION"]
