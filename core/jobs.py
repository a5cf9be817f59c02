"""Runs execute in a separate worker process, one at a time, from a queue kept in the store.

The UI never measures anything itself: it stores queued runs and makes sure one worker is alive.
The worker holds an exclusive lock file while it lives, so at most one runs per data directory and
timings never disturb each other. Everything lives in the store, so closing the browser or
restarting the app loses nothing.

Every worker registers in the store and beats a heartbeat; every worker puts the jobs of a worker
whose heartbeat stopped (or whose process is gone from this host) back in the queue, once
(`RunStore.requeue_lost_jobs`). A local worker takes unaddressed work and ends when the queue is
empty; a worker started with `--target NAME` registers its machine as that target, takes only work
addressed to it (and unaddressed work if it accepts it) and waits for more.

Each kind of job (`core.store.JOB_KINDS`) has its execute function in `JOBS`.
"""
from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from core.curve import execute_curve
from core.diagnose import execute_diagnosis
from core.engine import execute
from core.errors import RunCancelled
from core.explore import Trial, execute_exploration
from core.planning import Planner
from core.progress import Progress, no_progress
from core.remeasure import execute_comparison
from core.settings import Settings
from core.store import Claimant, ExplorationRecord, RunStore
from core.targets import WorkerSettings, check_target_name, target_environment

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
        process = subprocess.Popen([sys.executable, "-m", "core", "worker"], cwd=root, env=env,
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    # Reap it when it ends, or it stays a <defunct> child of the app until the next worker starts.
    threading.Thread(target=process.wait, name=f"reap-worker-{process.pid}", daemon=True).start()
    return True


def _interrupt(signum, frame) -> None:
    """SIGTERM stops the worker like Ctrl-C: the current run is stored `cancelled`."""
    raise KeyboardInterrupt


@dataclass(frozen=True)
class Job:
    """How the worker executes one kind of job (`core.store.JOB_KINDS`); it takes them in the order `JOBS` lists."""

    kind: str
    execute: Callable[[RunStore, int, Settings, Progress], Any]
    shared: bool = False  # its work spreads over the target's workers: it is told how many and who claims


def run_exploration(store: RunStore, exploration_id: int, settings: Settings, progress: Progress = no_progress,
                    on_trial: Callable[[Trial], None] = lambda trial: None,
                    parallel: Callable[[], int] = lambda: 1, claimant: Claimant = Claimant()) -> ExplorationRecord:
    """Work on an exploration this process has claimed: the planner plans each trial, the engine measures it.
    `parallel`: how many trials may be in the queue at once (the workers that can take them)."""
    config = store.exploration(exploration_id).config
    return execute_exploration(store, exploration_id, settings, Planner(settings, store).trial_planner(config),
                               progress, on_trial, parallel=parallel, claimant=claimant)


# Runs first, then explorations, latency-throughput curves, paired re-measurements, diagnoses.
JOBS: tuple[Job, ...] = (
    Job("run", execute),
    Job("exploration", run_exploration, shared=True),
    Job("curve", execute_curve),
    Job("comparison", execute_comparison),
    Job("diagnosis", execute_diagnosis),
)


def execute_here(store: RunStore, kind: str, job_id: int, settings: Settings, progress: Progress = no_progress) -> Any:
    """Work on a queued job of `kind` in this process (a command that measures here): start it, run it to its end
    state, return its record."""
    store.start(kind, job_id)
    return next(job for job in JOBS if job.kind == kind).execute(store, job_id, settings, progress)


class _Heartbeat:
    """A daemon thread that writes this worker's heartbeat every `interval_s` (one tiny UPDATE)."""

    def __init__(self, store: RunStore, worker_id: int, interval_s: float) -> None:
        self.stop = threading.Event()
        self.lost = False

        def beat() -> None:
            while not self.stop.wait(interval_s):
                try:
                    self.lost = not store.heartbeat(worker_id) or self.lost
                except Exception as exc:  # a store hiccup must not kill the worker; the next beat tries again
                    print(f"heartbeat failed: {exc}", file=sys.stderr, flush=True)

        self.thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
        self.thread.start()


def run_worker(settings: Settings, store: RunStore, *, progress: Progress = no_progress, target: str | None = None,
               accept_unaddressed: bool = False, wait: bool | None = None,
               worker: WorkerSettings = WorkerSettings(), jobs: tuple[Job, ...] = JOBS,
               should_stop: Callable[[], bool] = lambda: False) -> int:
    """Execute queued jobs (`JOBS`, in order) until none waits; returns how many.

    The worker registers in the store (as one of `target`'s workers, or as the local worker), beats, and puts lost
    workers' jobs back in the queue. With `target` it takes only its target's work (plus unaddressed work with
    `accept_unaddressed`) and by default waits for more work instead of ending (until SIGTERM, Ctrl-C or
    `should_stop`).
    """
    lock = _try_lock(settings)
    if lock is None:
        return 0  # another worker owns the queue of this data directory
    if settings.worker_cpus and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, settings.worker_cpus)  # keep the app and the worker on separate cores
    signal.signal(signal.SIGTERM, _interrupt)
    wait = target is not None if wait is None else wait
    claimant = Claimant(check_target_name(target) if target else None, accept_unaddressed)
    environment = target_environment() if target is not None else None

    def join() -> tuple[int, _Heartbeat]:
        """Register this process as a worker (the store records it on every job it starts) and start beating."""
        joined = store.register_worker(target, environment, accepts_unaddressed=accept_unaddressed)
        store.identity = store.identity.registered(joined)
        return joined, _Heartbeat(store, joined, worker.heartbeat_s)

    worker_id, heartbeat = join()
    parallel = lambda: max(1, store.live_workers(claimant.target, worker.requeue_after_s))  # noqa: E731
    done, reason, swept = 0, "stopped", float("-inf")
    try:
        while not should_stop():
            if heartbeat.lost:  # it beat too late once: its jobs went to others
                heartbeat.stop.set()
                store.stop_worker(worker_id, "declared lost")
                worker_id, heartbeat = join()
                print(f"this worker was declared lost (a heartbeat came too late); registered again as worker "
                      f"{worker_id}", flush=True)
            if time.monotonic() - swept >= worker.heartbeat_s:  # not on every claim
                swept = time.monotonic()
                for line in store.requeue_lost_jobs(worker.requeue_after_s):
                    print(line, flush=True)
            claimed = next(((job, job_id) for job in jobs if (job_id := store.claim(job.kind, claimant)) is not None),
                           None)
            if claimed is None:
                if not wait:
                    break
                time.sleep(worker.poll_s)
                continue
            job, job_id = claimed
            extra = {"parallel": parallel, "claimant": claimant} if job.shared else {}
            try:
                job.execute(store, job_id, settings, progress, **extra)
            except RunCancelled:
                pass  # stored as cancelled; go on with the queue
            done += 1
    except KeyboardInterrupt:
        reason = "stopped by SIGTERM or Ctrl-C"
        raise
    finally:
        heartbeat.stop.set()
        store.stop_worker(worker_id, reason)
        store.identity = store.identity.registered(None)
        lock.close()
    return done
