"""Runs execute in a separate worker process, one at a time, from a queue kept in the store.

The UI never measures anything itself: it stores queued runs and makes sure one worker is alive.
The worker holds an exclusive lock file while it lives, so at most one runs per data directory and
timings never disturb each other. Everything lives in the store, so closing the browser or
restarting the app loses nothing; a worker that dies leaves its run to be marked `interrupted`.
"""
from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

from core.curve import execute_curve
from core.diagnose import execute_diagnosis
from core.engine import execute
from core.errors import RunCancelled
from core.explore import Trial, execute_exploration
from core.planning import Planner
from core.progress import Progress, no_progress
from core.remeasure import execute_comparison
from core.settings import Settings
from core.store import ExplorationRecord, RunStore

LOCK_NAME = "worker.lock"
LOG_NAME = "worker.log"
LOG_LIMIT_BYTES = 5 * 1024 ** 2


def _lock_path(settings: Settings) -> Path:
    return settings.home / LOCK_NAME


def _try_lock(settings: Settings) -> IO | None:
    """The worker lock, held, or None when another process holds it."""
    handle = open(_lock_path(settings), "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def worker_alive(settings: Settings) -> bool:
    handle = _try_lock(settings)
    if handle is None:
        return True
    handle.close()
    return False


def ensure_worker(settings: Settings) -> bool:
    """Start a worker process if none is alive; returns True when one was started.

    With INFERSCOPE_AUTOSTART_WORKER=0 nothing starts: run `python -m core worker` yourself
    (e.g. on a dedicated benchmark machine pointed at the same store).
    """
    if not settings.autostart_worker or worker_alive(settings):
        return False
    root = Path(__file__).resolve().parents[1]
    log_path = settings.home / LOG_NAME
    if log_path.is_file() and log_path.stat().st_size > LOG_LIMIT_BYTES:
        log_path.replace(log_path.with_suffix(".log.1"))  # keep one previous log, never grow without bound
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    with open(log_path, "ab") as log:
        # A new session: the worker outlives the app (a restart loses nothing) and ignores its Ctrl-C.
        subprocess.Popen([sys.executable, "-m", "core", "worker"], cwd=root, env=env, stdin=subprocess.DEVNULL,
                         stdout=log, stderr=log, start_new_session=True)
    return True


def _interrupt(signum, frame) -> None:
    """SIGTERM stops the worker like Ctrl-C: the current run is stored `cancelled`."""
    raise KeyboardInterrupt


def run_exploration(store: RunStore, exploration_id: int, settings: Settings, progress: Progress = no_progress,
                    on_trial: Callable[[Trial], None] = lambda trial: None) -> ExplorationRecord:
    """Work on an exploration this process has claimed: the planner plans each trial, the engine measures it."""
    config = store.exploration(exploration_id).config
    return execute_exploration(store, exploration_id, settings, Planner(settings, store).trial_planner(config),
                               progress, on_trial)


def run_worker(settings: Settings, store: RunStore, *, progress: Progress = no_progress) -> int:
    """Execute queued runs, then explorations, curves, comparisons and diagnoses, until none waits; returns how
    many."""
    lock = _try_lock(settings)
    if lock is None:
        return 0  # another worker owns the queue
    if settings.worker_cpus and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, settings.worker_cpus)  # keep the app and the worker on separate cores
    signal.signal(signal.SIGTERM, _interrupt)
    done = 0
    try:
        while True:  # runs first, then explorations, latency-throughput curves, paired re-measurements, diagnoses
            if (run_id := store.claim_next_queued()) is not None:
                job = lambda: execute(store, run_id, settings, progress)  # noqa: E731
            elif (exploration_id := store.claim_next_exploration()) is not None:
                job = lambda: run_exploration(store, exploration_id, settings, progress)  # noqa: E731
            elif (curve_id := store.claim_next_curve()) is not None:
                job = lambda: execute_curve(store, curve_id, settings, progress)  # noqa: E731
            elif (comparison_id := store.claim_next_comparison()) is not None:
                job = lambda: execute_comparison(store, comparison_id, settings, progress)  # noqa: E731
            elif (diagnosis_id := store.claim_next_diagnosis()) is not None:
                job = lambda: execute_diagnosis(store, diagnosis_id, settings, progress)  # noqa: E731
            else:
                break
            try:
                job()
            except RunCancelled:
                pass  # stored as cancelled; go on with the queue
            done += 1
    finally:
        lock.close()
    return done
