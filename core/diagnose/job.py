"""A diagnosis as a job: claimed by the worker (or run by the CLI), holding the machine while it rebuilds,
scores or profiles, ended by the one lifecycle rule (`core.lifecycle`)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.bench.machine import machine_lock
from core.diagnose.profile import ProfileConfig, profilable, profile
from core.diagnose.sensitivity import SensitivityConfig, analyse, int8_step
from core.lifecycle import run_job
from core.options import parse_options
from core.progress import Progress, no_progress
from core.settings import Settings
from core.store import DiagnosisRecord, RunRecord, RunStore
from core.workdirs import job_folder


@dataclass(frozen=True)
class Analysis:
    """One kind of diagnosis: its settings and the function that computes it."""

    config_cls: type
    compute: Callable[..., dict[str, Any]]   # (run, settings, config, progress, work_dir) -> {"nodes", ...}
    check: Callable[[RunRecord], Any]        # refuses (RecipeError) a run it cannot read, saying what works


ANALYSES: dict[str, Analysis] = {"sensitivity": Analysis(SensitivityConfig, analyse, int8_step),
                                 "profile": Analysis(ProfileConfig, profile, profilable)}


def diagnose(store: RunStore, diagnosis_id: int, settings: Settings, progress: Progress = no_progress) -> None:
    """Analyse the diagnosis's run and store what it found."""
    record = store.diagnosis(diagnosis_id)
    analysis = ANALYSES[record.kind]
    config = parse_options(analysis.config_cls, record.config, what=record.kind)
    with machine_lock(f"diagnosis {diagnosis_id}", progress), \
            job_folder(settings, f"diagnosis-{diagnosis_id}") as folder:  # rebuilding and profiling disturb timing
        found = analysis.compute(store.get(record.run_id), settings, config, progress, folder)
    summary = {**found["summary"], **({"op_types": found["op_types"]} if "op_types" in found else {})}
    store.end("diagnosis", diagnosis_id, "done", nodes=found["nodes"], summary=summary)


def execute_diagnosis(store: RunStore, diagnosis_id: int, settings: Settings,
                      progress: Progress = no_progress) -> DiagnosisRecord:
    """Run a claimed diagnosis to its end state."""
    return run_job(store, "diagnosis", diagnosis_id, lambda report: diagnose(store, diagnosis_id, settings, report),
                   lambda _: None, progress)
