"""The run store (SQLAlchemy; SQLite by default, any URL by setting)."""
from core.store.entities import (
    ALL_METRICS,
    Claimant,
    ComparisonRecord,
    CurvePoint,
    CurveRecord,
    DiagnosisRecord,
    ExplorationRecord,
    JobRecord,
    RunRecord,
    RunSpec,
    TargetRecord,
    UploadRecord,
    hardware_words,
)
from core.store.kinds import JOB_KINDS
from core.store.repository import RunStore, WorkerIdentity
from core.store.schema import (
    ACTIVE_STATUSES,
    FINAL_STATUSES,
    METRIC_COLUMNS,
    SCHEMA_VERSION,
    STATUSES,
)

__all__ = ["ACTIVE_STATUSES", "RunStore", "WorkerIdentity", "JOB_KINDS", "JobRecord", "Claimant", "TargetRecord",
           "UploadRecord", "hardware_words", "RunRecord", "CurveRecord", "CurvePoint",
           "ExplorationRecord", "RunSpec", "ComparisonRecord", "DiagnosisRecord", "ALL_METRICS", "METRIC_COLUMNS", "STATUSES",
           "FINAL_STATUSES", "SCHEMA_VERSION"]
