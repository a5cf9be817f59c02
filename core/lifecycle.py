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
import time
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from core.errors import InferScopeError, RunCancelled
from core.progress import stage_name

T = TypeVar("T")
# end(status, error): the store's end call for this kind of job.
EndJob = Callable[[str, str], None]


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
    """Progress written to a job's row at most twice a second (SQLite writes must stay rare), and on every
    new stage. `write(stage, fraction)` stores it and returns True when a cancel was requested: then
    `RunCancelled` is raised here, at the job's next report."""

    def __init__(self, write: Callable[[str, float], bool]) -> None:
        self.write = write
        self._last_stage: str | None = None
        self._last_time = 0.0

    def __call__(self, stage: str, fraction: float) -> None:
        now, name = time.monotonic(), stage_name(stage)  # a new detail ("epoch 3 of 6") is no new stage
        if name != self._last_stage or now - self._last_time > 0.5 or fraction >= 1.0:
            self._last_stage, self._last_time = name, now
            if self.write(stage, fraction):
                raise RunCancelled(f"cancelled by the user during {stage}")
