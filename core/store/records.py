"""Rows to records: the plain objects that leave the store (no ORM state escapes it)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.store.entities import (
    ComparisonRecord,
    CurvePoint,
    CurveRecord,
    DiagnosisRecord,
    ExplorationRecord,
    JobRecord,
    RunRecord,
)
from core.store.schema import INT_METRIC_COLUMNS, METRIC_COLUMNS, CurvePointRow

JOB_FIELDS = tuple(f.name for f in fields(JobRecord))
_RUN_FIELDS = ("model", "model_source", "dataset", "dataset_location", "subset_size", "subset_seed",
               "subset_split", "calibration_split", "scenario", "engine", "env_fingerprint", "environment",
               "exploration_id", "parent_run_id", "model_sha256")
_METRIC_NAMES = (*METRIC_COLUMNS, *INT_METRIC_COLUMNS)
_POINT_FIELDS = tuple(f.name for f in fields(CurvePoint))


def _reader(row: Any):
    """Read a column of an ORM row or of a row mapping alike."""
    return row.__getitem__ if isinstance(row, Mapping) else lambda name: getattr(row, name)


def job_fields(row: Any) -> dict[str, Any]:
    """The fields every job record has, from a job table's row (empty JSON and counters as empty values)."""
    get = _reader(row)
    values = {name: get(name) for name in JOB_FIELDS}
    return {**values, "progress": values["progress"] or 0.0, "notes": list(values["notes"] or []),
            "requeues": values["requeues"] or 0, "cancel_requested": bool(values["cancel_requested"])}


def run_record(session: Session | None, row: Any) -> RunRecord:
    """A RunRecord from a runs row or row mapping (listings read plain mappings: 5,000 runs load fast)."""
    get = _reader(row)
    return RunRecord(**job_fields(row), **{name: get(name) for name in _RUN_FIELDS},
                     model_options=get("model_options") or {}, recipe=get("recipe") or [],
                     runtime=get("runtime") or {}, scenario_config=get("scenario_config") or {},
                     noisy=bool(get("noisy")), advice=list(get("advice") or []), tags=list(get("tags") or []),
                     metrics={name: get(name) for name in _METRIC_NAMES})


def curve_record(session: Session, row: Any) -> CurveRecord:
    points = session.scalars(select(CurvePointRow).where(CurvePointRow.curve_id == row.id)
                             .order_by(CurvePointRow.target_rate_rps)).all()
    return CurveRecord(**job_fields(row), run_id=row.run_id, config=row.config or {},
                       saturation_rps=row.saturation_rps,
                       points=[CurvePoint(**{n: getattr(p, n) for n in _POINT_FIELDS}) for p in points])


def exploration_record(session: Session, row: Any) -> ExplorationRecord:
    return ExplorationRecord(**job_fields(row), config=row.config or {}, strategy=row.strategy,
                             spent_s=row.spent_s or 0.0, trials=row.trials or 0,
                             reused_run_ids=list(row.reused_run_ids or []))


def comparison_record(session: Session, row: Any) -> ComparisonRecord:
    return ComparisonRecord(**job_fields(row), run_ids=list(row.run_ids), reference_id=row.reference_id,
                            config=row.config or {}, results=list(row.results or []), blocks=dict(row.blocks or {}),
                            noisy=bool(row.noisy), note=row.note, contention=row.contention)


def diagnosis_record(session: Session, row: Any) -> DiagnosisRecord:
    return DiagnosisRecord(**job_fields(row), run_id=row.run_id, kind=row.kind, config=row.config or {},
                           nodes=list(row.nodes or []), summary=dict(row.summary or {}))
