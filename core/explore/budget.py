"""An exploration's budget: runs or minutes, counted across every session that worked on it."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from core.explore.settings import ExploreSettings


def _clock() -> float:
    return time.monotonic()


@dataclass
class Budget:
    """What an exploration may still spend: trials (baselines included) or minutes, across its sessions."""

    settings: ExploreSettings
    spent_before: float
    trials_before: int
    started: float = field(default_factory=lambda: _clock())
    trials: int = 0

    @property
    def spent_s(self) -> float:
        return self.spent_before + _clock() - self.started

    @property
    def total_trials(self) -> int:
        return self.trials_before + self.trials

    def fraction(self) -> float:
        if self.settings.budget_runs is not None:
            return min(1.0, self.total_trials / self.settings.budget_runs)
        return min(1.0, self.spent_s / (60.0 * self.settings.budget_minutes))

    def left(self) -> bool:
        return self.fraction() < 1.0
