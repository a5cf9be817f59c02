"""How every job ends — a run, a curve, an exploration: one rule for storing cancels, failures and success.

- a cancel request (`RunCancelled`) or Ctrl-C/SIGTERM (`KeyboardInterrupt`): stored `cancelled`, then
  re-raised so the caller stops (the worker goes on with its queue, the CLI exits 130);
- an `InferScopeError`: stored `failed` with its message, which says what to change;
- any other exception (a technique or library may throw anything): stored `failed` with its type,
  traceback on stderr — never hidden, never left `running`;
- success: `finish(result)` stores the result; if that refuses it (e.g. `MeasurementError`), `failed`.
"""
from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from core.errors import InferScopeError, RunCancelled, StoreUnavailable
from core.progress import Progress, fan_out, no_progress, stage_name

T = TypeVar("T")
# end(status, error): the store's end call for this kind of job.
EndJob = Callable[[str, str], None]


def run_job(store: Any, kind: str, job_id: int, work: Callable[[Progress], T], finish: Callable[[T], Any],
            progress: Progress = no_progress, *, stored: bool = True,
            interrupted: str = "cancelled by the user (interrupted)",
            error_words: Callable[[str, str], str] = lambda status, error: error) -> Any:
    """Run a claimed job of `kind` (a `core.store.JOB_KINDS` name) to its end state and return its record.

    `work(progress)` does the job; its reports go to `progress` and, with `stored`, to the job's row, where a cancel
    request is seen at the next report. `finish(result)` stores the result (ending the job `done`); anything else
    ends it as the module's rule says, with `error_words(status, error)` as its stored error.
    """
    report = fan_out(StoredProgress(lambda stage, fraction: store.progress(kind, job_id, stage, fraction)),
                     progress) if stored else progress
    run_to_end(lambda: work(report), finish,
               lambda status, error: store.end(kind, job_id, status, error_words(status, error)),
               interrupted=interrupted)
    return store.job(kind, job_id)


def run_to_end(work: Callable[[], T], finish: Callable[[T], Any], end: EndJob, *, interrupted: str) -> None:
    """Do `work`, store its result with `finish`, or store how it ended with `end` (see the module's rule).

    `interrupted` is the message stored on Ctrl-C or SIGTERM (what the user can do next).
    """
    try:
        finish(work())
    except RunCancelled as exc:
        end("cancelled", str(exc))
        raise
    except KeyboardInterrupt:
        end("cancelled", interrupted)
        raise
    except InferScopeError as exc:
        end("failed", str(exc))
    except Exception as exc:  # noqa: BLE001 — stored as failed with its type; the traceback goes to the log
        traceback.print_exc(file=sys.stderr)
        end("failed", f"{type(exc).__name__}: {exc}")


class StoredProgress:
    """Progress written to a job's row — at most twice a second, and on every new stage — from a thread of its
    own, so a slow or absent store never holds up the job (a timing loop least of all: a write blocked by a
    locked file would stretch its wall time and so lower its throughput). The latest report wins.

    `write(stage, fraction)` stores it and returns True when a cancel was requested: `RunCancelled` is then
    raised here, at the job's next report, or at the end of the stage (which waits, briefly, for its write).
    A write the store cannot take now (`StoreUnavailable`: a database restart, a locked file) is skipped and the
    next report tries again; any other failure is raised here."""

    IDLE_S = 2.0   # the writer thread ends after this long without a report, and starts again with the next
    FLUSH_S = 1.0  # a stage's last report waits this long at most for its write (a cancel is seen in its stage)

    def __init__(self, write: Callable[[str, float], bool]) -> None:
        self.write = write
        self._last_stage: str | None = None
        self._last_time = 0.0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pending: tuple[str, float] | None = None
        self._writer: threading.Thread | None = None
        self._cancelled_during: str | None = None
        self._error: BaseException | None = None
        self._written = threading.Event()  # set when no report waits to be written
        self._store_away = False           # the last write found the store away (said once, not every write)
        self._written.set()

    def __call__(self, stage: str, fraction: float) -> None:
        self._raise_what_the_writer_saw()
        now, name = time.monotonic(), stage_name(stage)  # a new detail ("epoch 3 of 6") is no new stage
        if name != self._last_stage or now - self._last_time > 0.5 or fraction >= 1.0:
            self._last_stage, self._last_time = name, now
            with self._lock:
                self._pending = (stage, fraction)
                self._written.clear()
                if self._writer is None:
                    self._writer = threading.Thread(target=self._write_pending, name="progress-writer",
                                                    daemon=True)
                    self._writer.start()
            self._wake.set()
            if fraction >= 1.0:
                self._written.wait(self.FLUSH_S)
                self._raise_what_the_writer_saw()

    def _raise_what_the_writer_saw(self) -> None:
        with self._lock:
            error, self._error = self._error, None
            cancelled = self._cancelled_during
        if error is not None:
            raise error
        if cancelled is not None:
            raise RunCancelled(f"cancelled by the user during {cancelled}")

    def _write_pending(self) -> None:
        while True:
            self._wake.wait(self.IDLE_S)
            with self._lock:
                self._wake.clear()
                report, self._pending = self._pending, None
                if report is None:
                    self._writer = None
                    self._written.set()
                    return
            try:
                if self.write(*report):
                    with self._lock:
                        self._cancelled_during = self._cancelled_during or stage_name(report[0])
                if self._store_away:
                    self._store_away = False
                    print("progress is stored again", file=sys.stderr, flush=True)
            except StoreUnavailable as exc:
                if not self._store_away:
                    self._store_away = True
                    print(f"progress not stored while the store is away, the job goes on ({exc})", file=sys.stderr,
                          flush=True)
            except Exception as exc:  # noqa: BLE001 — handed to the job, which raises it at its next report
                with self._lock:
                    self._error = exc
            with self._lock:
                if self._pending is None:
                    self._written.set()
