"""Plain objects that leave the store: no ORM state escapes the store boundary."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from core.metrics import CATALOGUE

ALL_METRICS = tuple(CATALOGUE)


def hardware_words(environment: dict[str, Any] | None) -> str:
    """A machine in a few words, from a target's registration or a run's environment:
    "Intel Xeon … · 16 cores · 64 GB · NVIDIA H200"."""
    env = environment or {}
    gpus = list(env.get("gpus") or ([env["gpu"]] if env.get("gpu") else []))
    memory = [f"{env['memory_gb']:.0f} GB"] if env.get("memory_gb") else []
    return " · ".join([env.get("cpu") or "unknown CPU", f"{env.get('logical_cores') or '?'} cores", *memory, *gpus])


@dataclass(frozen=True)
class Claimant:
    """Who asks the queue for work: a worker of `target` (None: the local worker, unaddressed work only)."""

    target: str | None = None
    accepts_unaddressed: bool = False  # a target's worker may also take work addressed to no target


@dataclass(frozen=True)
class TargetRecord:
    """A registered target: its hardware and libraries, its live workers and its queue."""

    name: str
    environment: dict[str, Any]
    host: str | None
    registered_at: datetime
    last_seen_at: datetime
    live_workers: int
    queued: int                  # jobs of every kind waiting for it
    running: int

    @property
    def live(self) -> bool:
        return self.live_workers > 0

    def hardware(self) -> str:
        return hardware_words(self.environment)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "environment": self.environment, "host": self.host, "live": self.live,
                "live_workers": self.live_workers, "queued": self.queued, "running": self.running,
                "hardware": self.hardware(), "last_seen_at": self.last_seen_at.isoformat()}


@dataclass(frozen=True)
class UploadRecord:
    """An ONNX model kept in the store by its SHA-256 (bytes fetched separately)."""

    sha256: str
    name: str
    size: int
    uploaded_at: datetime


@dataclass(frozen=True, kw_only=True)
class RunSpec:
    """What a run measures, exactly as it is stored when it is queued: the planner's output, the store's input."""

    model: str
    model_source: str
    model_options: dict[str, Any]
    dataset: str
    dataset_location: str | None
    subset_size: int
    subset_seed: int
    subset_split: str | None
    calibration_split: str | None
    recipe: list[dict[str, Any]]
    runtime: dict[str, Any]
    scenario: str = "single-stream"
    scenario_config: dict[str, Any] = field(default_factory=dict)
    target: str | None = None           # the registered machine it must run on; None: any unaddressed worker
    model_sha256: str | None = None     # an ONNX model's bytes in the store (they travel to a remote worker)

    def columns(self) -> dict[str, Any]:
        """Its fields by column name (a spec's only, also of a stored run)."""
        return {f.name: getattr(self, f.name) for f in fields(RunSpec)}


@dataclass(frozen=True, kw_only=True)
class JobRecord:
    """What every job (a run, an exploration, a curve, a comparison, a diagnosis) tells about where it is."""

    id: int
    status: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    stage: str | None = None
    progress: float = 0.0
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    target: str | None = None           # the registered machine it must run on; None: any unaddressed worker
    requeues: int = 0                   # times it was put back in the queue after its worker was lost
    worker_pid: int | None = None
    worker_host: str | None = None
    worker_id: int | None = None        # the registered worker that claimed it
    worker_role: str | None = None      # what that process was ("the worker (python -m core worker)")
    cancel_requested: bool = False

    def job_json(self) -> dict[str, Any]:
        """The fields every job's JSON shares."""
        iso = lambda d: d.isoformat() if d else None  # noqa: E731
        return {"id": self.id, "status": self.status, "stage": self.stage, "progress": self.progress,
                "error": self.error, "notes": list(self.notes), "target": self.target, "requeues": self.requeues,
                "created_at": iso(self.created_at), "started_at": iso(self.started_at),
                "finished_at": iso(self.finished_at)}


@dataclass(frozen=True, kw_only=True)
class RunRecord(RunSpec, JobRecord):
    """A stored run: what it measures (`RunSpec`), where it is as a job (`JobRecord`), and what it measured."""

    engine: str | None = None
    env_fingerprint: str | None = None
    environment: dict[str, Any] | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    exploration_id: int | None = None
    noisy: bool = False  # other processes used the machine beyond the threshold while it timed
    parent_run_id: int | None = None  # the run it was derived from (e.g. by a diagnosis's "keep in float")
    advice: list[dict[str, Any]] = field(default_factory=list)  # the doctor's findings (core.doctor.Finding)

    @property
    def recipe_summary(self) -> str:
        return " → ".join(step["technique"] for step in self.recipe) or "fp32"

    @property
    def dataset_spec(self) -> str:
        return f"{self.dataset}:{self.dataset_location}" if self.dataset_location else self.dataset

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape of `runs --json` and `show --json`."""
        return {**self.job_json(), "model": self.model, "model_source": self.model_source,
                "model_options": self.model_options, "dataset": self.dataset,
                "dataset_location": self.dataset_location, "subset_size": self.subset_size,
                "subset_seed": self.subset_seed, "subset_split": self.subset_split,
                "calibration_split": self.calibration_split, "recipe": self.recipe, "runtime": self.runtime,
                "scenario": self.scenario, "scenario_config": self.scenario_config, "engine": self.engine,
                "env_fingerprint": self.env_fingerprint, "tags": list(self.tags),
                "exploration_id": self.exploration_id, "noisy": self.noisy, "parent_run_id": self.parent_run_id,
                "advice": list(self.advice), "metrics": dict(self.metrics)}


@dataclass(frozen=True)
class CurvePoint:
    """One measured point of a latency-throughput sweep."""

    target_rate_rps: float
    achieved_rate_rps: float
    latency_p50_ms: float
    latency_p90_ms: float
    latency_p99_ms: float
    latency_p999_ms: float
    over_bound_pct: float
    completed: int
    dropped: int
    mean_batch_requests: float | None = None


@dataclass(frozen=True, kw_only=True)
class CurveRecord(JobRecord):
    """A latency-throughput sweep of one run's configuration, with its points in rate order."""

    run_id: int
    config: dict[str, Any]
    saturation_rps: float | None
    points: list[CurvePoint] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {**self.job_json(), "run_id": self.run_id, "config": self.config,
                "saturation_rps": self.saturation_rps, "points": [asdict(p) for p in self.points]}


@dataclass(frozen=True, kw_only=True)
class ExplorationRecord(JobRecord):
    """A budgeted search; its runs are the trials carrying its id plus the stored baselines it reused."""

    config: dict[str, Any]
    strategy: str | None
    spent_s: float
    trials: int
    reused_run_ids: list[int] = field(default_factory=list)  # stored runs it took as baselines (no budget spent)

    def to_json(self) -> dict[str, Any]:
        return {**self.job_json(), "config": self.config, "strategy": self.strategy, "spent_s": self.spent_s,
                "trials": self.trials, "reused_run_ids": self.reused_run_ids}


@dataclass(frozen=True, kw_only=True)
class ComparisonRecord(JobRecord):
    """A paired re-measurement: the runs, the reference, and each run's ratio, interval and verdict."""

    run_ids: list[int]
    reference_id: int
    config: dict[str, Any]
    results: list[dict[str, Any]]       # Paired fields per run, in run_ids order
    blocks: dict[str, list[float]]      # run id (text) -> block medians, ms
    noisy: bool
    note: str | None
    contention: dict[str, Any] | None = None  # other_cpu_pct, steal_pct, … while it timed (since schema 10)

    def result(self, run_id: int) -> dict[str, Any] | None:
        return next((r for r in self.results if r["run_id"] == run_id), None)

    def to_json(self) -> dict[str, Any]:
        return {**self.job_json(), "run_ids": self.run_ids, "reference_id": self.reference_id,
                "config": self.config, "results": self.results, "noisy": self.noisy, "note": self.note,
                "contention": self.contention}


@dataclass(frozen=True, kw_only=True)
class DiagnosisRecord(JobRecord):
    """A diagnosis of one run: where its accuracy went (INT8 sensitivity) or where its time went (profile)."""

    run_id: int
    kind: str                       # "sensitivity" (where the accuracy went) or "profile" (where the time went)
    config: dict[str, Any]
    nodes: list[dict[str, Any]]     # sensitivity: NodeSensitivity fields; profile: the slowest nodes
    summary: dict[str, Any]         # sensitivity: accuracies, nodes, images; profile: shares, times, op types

    def most_sensitive(self, count: int) -> list[str]:
        """The `count` nodes whose float copy recovered the most accuracy (only nodes that recovered some)."""
        tried = [n for n in self.nodes if n.get("recovered") is not None and n["recovered"] > 0]
        return [n["node"] for n in tried[:count]]

    def to_json(self) -> dict[str, Any]:
        return {**self.job_json(), "run_id": self.run_id, "kind": self.kind, "config": self.config,
                "nodes": self.nodes, "summary": self.summary}
