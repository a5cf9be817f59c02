"""A diagnosis as a job: claimed by the worker (or run by the CLI), holding the machine while it rebuilds
and scores, ended by the one lifecycle rule (`core.lifecycle`)."""
from __future__ import annotations

from core.bench.machine import machine_lock
from core.diagnose.sensitivity import SensitivityConfig, analyse
from core.lifecycle import StoredProgress, run_to_end
from core.options import parse_options
from core.progress import Progress, fan_out, no_progress
from core.settings import Settings
from core.store import DiagnosisRecord, RunStore


def diagnose(store: RunStore, diagnosis_id: int, settings: Settings, progress: Progress = no_progress) -> None:
    """Analyse the diagnosis's run and store what it found."""
    progress = fan_out(StoredProgress(lambda stage, fraction: store.set_diagnosis_progress(diagnosis_id, stage,
                                                                                      fraction)), progress)
    record = store.diagnosis(diagnosis_id)
    config = parse_options(SensitivityConfig, record.config, what="diagnose")
    with machine_lock(f"diagnosis {diagnosis_id}", progress):  # rebuilding and scoring would disturb a timing
        found = analyse(store.get(record.run_id), settings, config, progress)
    store.finish_diagnosis(diagnosis_id, found["nodes"], found["summary"])


def execute_diagnosis(store: RunStore, diagnosis_id: int, settings: Settings,
                      progress: Progress = no_progress) -> DiagnosisRecord:
    """Run a claimed diagnosis to its end state."""
    run_to_end(lambda: diagnose(store, diagnosis_id, settings, progress), lambda _: None,
               lambda status, error: store.end_diagnosis(diagnosis_id, status, error),
               interrupted="cancelled by the user (interrupted)")
    return store.diagnosis(diagnosis_id)
