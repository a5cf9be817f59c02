"""One measurement at a time per machine, and what else the machine did while we timed.

`machine_lock` is held by every heavy piece of InferScope's own work — building, training,
calibrating, scoring and timing a run, sweeping a curve, verifying an export — so two InferScope
processes (CLI runs, the worker, an exploration, a test) never time beside each other, whatever data
directory they use: the lock file lives in the system's temporary folder. A second process waits
and says for whom: its stage names the holder so a user can find it — "waiting for run 12 · data directory
/srv/a/.inferscope · pid 4242 (python -m core worker) since 17:30:02".

`ContentionMeter` samples, around a timing loop, the CPU time the rest of the machine used (all
busy time minus this process's), steal time, the load average and the CPU frequency.
"""
from __future__ import annotations

import fcntl
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from core.progress import Progress, no_progress

WAIT_STAGE = "waiting for"  # + the holder: "waiting for run 12 · …"
STAGE_LIMIT = 120            # a job's stage column holds this many characters
POLL_S = 0.5
_depth_lock = threading.Lock()
_depth = 0  # how deep this process is inside machine_lock: one process is one measurement, whatever the thread


def lock_path() -> Path:
    """One file per machine (INFERSCOPE_MACHINE_LOCK overrides it, e.g. for a shared /tmp per container)."""
    return Path(os.environ.get("INFERSCOPE_MACHINE_LOCK") or Path(tempfile.gettempdir()) / "inferscope-machine.lock")


def _open_lock() -> IO:
    path = lock_path()
    try:
        return open(path, "a+")
    except PermissionError:  # another user made it: that user's processes and ours cannot share a lock
        return open(path.with_name(f"{path.stem}-{os.getuid()}{path.suffix}"), "a+")


def _holder_record(holder: str) -> str:
    """What the lock file says of its holder: the work, and the process a user can find it by."""
    import psutil

    argv = psutil.Process().cmdline()
    command = " ".join(" ".join([Path(argv[0]).name, *argv[1:]]).split())  # one line: `python -c` code has several
    return json.dumps({"holder": holder, "pid": os.getpid(), "command": command, "home": str(_data_directory()),
                       "since": time.time()})


def _data_directory() -> Path:
    from core.settings import load_settings

    return load_settings().home


def holder_words(text: str, limit: int = STAGE_LIMIT - len(WAIT_STAGE) - 1) -> str:
    """The lock file's record as a stage reads it, within `limit` characters: "run 12 · pid 4242 (python -m core
    worker) since 17:30:02 · data directory /srv/a/.inferscope" ("this data directory" when it is the reader's
    own; a long path keeps its end)."""
    try:
        record = json.loads(text)
    except ValueError:
        return text.strip() or "another process"  # a lock file written by an older InferScope: its holder alone
    since = time.strftime("%H:%M:%S", time.localtime(record["since"]))
    command = record["command"] if len(record["command"]) <= 40 else record["command"][:39] + "…"
    words = f"{record['holder']} · pid {record['pid']} ({command}) since {since} · "
    if record["home"] == str(_data_directory()):
        return words + "this data directory"
    room = limit - len(words) - len("data directory ")
    home = record["home"] if len(record["home"]) <= room else "…" + record["home"][-(room - 1):]
    return f"{words}data directory {home}"


def _holder_text(handle: IO) -> str:
    handle.seek(0)
    return holder_words(handle.read())


@contextmanager
def machine_lock(holder: str, progress: Progress = no_progress) -> Iterator[None]:
    """Hold the machine-wide measurement lock for `holder` (e.g. "run 12"); re-entrant in one process.

    While another process holds it, report "waiting for <holder>" through `progress` every half
    second (a cancel raised by `progress` ends the wait).
    """
    global _depth
    with _depth_lock:
        reentered = _depth > 0
        if reentered:
            _depth += 1
    if reentered:  # nested work of the measurement this process already holds the machine for
        try:
            yield
        finally:
            with _depth_lock:
                _depth -= 1
        return
    handle = _open_lock()
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                progress(f"{WAIT_STAGE} {_holder_text(handle)}"[:STAGE_LIMIT], 0.0)
                time.sleep(POLL_S)
        handle.seek(0)
        handle.truncate()
        handle.write(_holder_record(holder))
        handle.flush()
        with _depth_lock:
            _depth = 1
        try:
            yield
        finally:
            with _depth_lock:
                _depth = 0
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


@dataclass(frozen=True)
class Contention:
    """What the rest of the machine did during a timing window; CPU figures in % of one core."""

    other_cpu_pct: float        # busy CPU time of everything but this process / wall time
    steal_pct: float | None     # time the hypervisor gave our vCPUs to others (Linux guests)
    load_avg_1m: float | None
    cpu_mhz: float | None       # current frequency at the end of the window, where readable
    seconds: float

    def metrics(self) -> dict[str, float | None]:
        return {"other_cpu_pct": self.other_cpu_pct, "steal_pct": self.steal_pct, "load_avg_1m": self.load_avg_1m,
                "cpu_mhz": self.cpu_mhz}


def _busy(times) -> float:
    idle = times.idle + getattr(times, "iowait", 0.0) + getattr(times, "steal", 0.0)
    total = sum(getattr(times, field) for field in times._fields if field not in ("guest", "guest_nice"))
    return total - idle


class ContentionMeter:
    """Context manager: `with ContentionMeter() as meter: <timing loop>` then `meter.result`."""

    def __enter__(self) -> ContentionMeter:
        import psutil

        self._process = psutil.Process()
        self._system, self._own, self._start = psutil.cpu_times(), self._process.cpu_times(), time.monotonic()
        self.result: Contention | None = None
        return self

    def __exit__(self, *exc) -> None:
        import psutil

        system, own, seconds = psutil.cpu_times(), self._process.cpu_times(), time.monotonic() - self._start
        if seconds <= 0:
            return
        own_s = (own.user + own.system) - (self._own.user + self._own.system)
        other_s = max(0.0, (_busy(system) - _busy(self._system)) - own_s)
        steal = getattr(system, "steal", None)
        steal_pct = None if steal is None else 100.0 * max(0.0, steal - self._system.steal) / seconds
        try:
            load = os.getloadavg()[0]
        except OSError:
            load = None
        freq = psutil.cpu_freq() if hasattr(psutil, "cpu_freq") else None
        self.result = Contention(100.0 * other_s / seconds, steal_pct, load, freq.current if freq else None, seconds)


def noise_note(contention: Contention | None, threshold_pct: float) -> str | None:
    """The note that marks a run noisy, with its figures; None when the machine was quiet enough."""
    if contention is None:
        return None
    steal = contention.steal_pct or 0.0
    if contention.other_cpu_pct <= threshold_pct and steal <= threshold_pct:
        return None
    load = f", load average {contention.load_avg_1m:.2f}" if contention.load_avg_1m is not None else ""
    return (f"noisy: while this run timed, other processes used {contention.other_cpu_pct:.0f}% of a core and steal "
            f"took {steal:.0f}%{load} (threshold {threshold_pct:g}%); its latency may be inflated — "
            "measure it again on a quiet machine (INFERSCOPE_WORKER_CPUS keeps the worker apart from the app)")
