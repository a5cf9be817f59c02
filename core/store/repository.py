"""The run store: one facade over the rooms of the store, each one short transaction per method.

- `connection.py`: the engine, sessions, errors in words, the schema at Alembic's head;
- `jobs.py` with `kinds.py`: one lifecycle for every kind of job, and the rule for lost workers;
- `runs.py`: runs, their metrics, latencies and predictions;
- `studies.py`: explorations, curves, comparisons and diagnoses — the jobs that study runs;
- `workers.py`: workers, heartbeats and targets; `uploads.py`: ONNX bytes kept in the store;
- `records.py`: rows to the plain records that leave the store.
"""
from __future__ import annotations

import functools

from core.store.connection import DEFAULT_RETRY_S, WorkerIdentity
from core.store.resilience import retry_all
from core.store.runs import RunQueries
from core.store.studies import StudyQueries
from core.store.uploads import UploadQueries
from core.store.workers import WorkerQueries

# Written on every report of a job: best-effort, never waited for (see core.store.resilience).
PROGRESS_WRITES = frozenset({"progress"})

__all__ = ["RunStore", "WorkerIdentity", "DEFAULT_RETRY_S", "PROGRESS_WRITES"]


@functools.partial(retry_all, except_=PROGRESS_WRITES)
class RunStore(RunQueries, StudyQueries, WorkerQueries, UploadQueries):
    """All reads and writes of runs and jobs. While the store is away (a server restart, a locked file) a method
    waits and tries again for up to `retry_s` seconds."""
