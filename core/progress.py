"""Progress reporting: the engine calls `progress(stage, fraction)`; each front end renders it."""
from __future__ import annotations

import sys
from typing import Callable, Protocol


class Progress(Protocol):
    def __call__(self, stage: str, fraction: float) -> None:
        """Report that `stage` is `fraction` (0..1) done."""


def no_progress(stage: str, fraction: float) -> None:
    """A progress sink that shows nothing."""


class TqdmProgress:
    """A terminal progress bar per stage (the CLI's)."""

    def __init__(self, stream=sys.stderr) -> None:
        self._stream = stream
        self._bar = None
        self._stage: str | None = None

    def __call__(self, stage: str, fraction: float) -> None:
        from tqdm import tqdm

        if stage != self._stage:
            self.close()
            self._stage = stage
            self._bar = tqdm(total=100, desc=f"{stage:>12}", file=self._stream, leave=True,
                             bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed}")
        target = int(round(max(0.0, min(1.0, fraction)) * 100))
        if self._bar is not None and target > self._bar.n:
            self._bar.update(target - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "TqdmProgress":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()  # before the caller prints an error: the bar must not be the last line


def fan_out(*sinks: Callable[[str, float], None]) -> Progress:
    """One progress callable that reports to several sinks."""
    def report(stage: str, fraction: float) -> None:
        for sink in sinks:
            sink(stage, fraction)
    return report
