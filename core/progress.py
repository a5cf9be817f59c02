"""Progress reporting: the engine calls `progress(stage, fraction)`; each front end renders it."""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Protocol


class Progress(Protocol):
    def __call__(self, stage: str, fraction: float) -> None:
        """Report that `stage` is `fraction` (0..1) done. A stage may carry a detail after DETAIL_MARK
        ("train · epoch 2 of 6 · 1 min 10 s left"); sinks treat it as the same stage."""


DETAIL_MARK = " · "


def with_detail(stage: str, *details: str) -> str:
    """"train", "epoch 2 of 6" -> "train · epoch 2 of 6"."""
    return DETAIL_MARK.join((stage, *details))


def stage_name(stage: str) -> str:
    """The stage without its detail: "train · epoch 2 of 6" -> "train"."""
    return stage.split(DETAIL_MARK, 1)[0]


def time_left(seconds: float) -> str:
    """A remaining time as a person reads it: "45 s", "3 min 20 s", "1 h 05 min"."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


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

        name, _, detail = stage.partition(DETAIL_MARK)
        if name != self._stage:
            self.close()
            self._stage = name
            self._bar = tqdm(total=100, desc=f"{name:>12}", file=self._stream, leave=True,
                             bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed}{postfix}")
        target = int(round(max(0.0, min(1.0, fraction)) * 100))
        if self._bar is not None and detail:
            self._bar.set_postfix_str(detail, refresh=False)
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
