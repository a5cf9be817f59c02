"""What an exploration searches and within which budget: its stored settings, and which strategy it uses."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import InferScopeError
from core.explore.analysis import Constraints
from core.metrics import DEFAULT_ACCURACY, DEFAULT_LATENCY, LATENCY_METRICS
from core.options import option, parse_options
from core.store import ExplorationRecord
from core.tasks import Task
from core.wording import DEFAULT_MAX_DROP, drop_unit

STRATEGIES = ("auto", "exhaustive", "nsga2", "tpe")
def task_defaults(task: Task) -> dict[str, Any]:
    """The settings an exploration of `task`'s models takes where the user gave none: its front's latency as the
    objective and the drop its quality allows by default (a language model: inter-token p50, 5% of perplexity)."""
    return {"latency_metric": task.front[0], "max_drop": DEFAULT_MAX_DROP[drop_unit(task.front[1])]}


@dataclass(frozen=True)
class ExploreSettings:
    """What an exploration searches and within which budget (stored as its config)."""

    budget_runs: int | None = option(None, "stop after this many trials (baselines included)", minimum=1,
                                     maximum=100_000, label="budget (runs)")
    budget_minutes: float | None = option(None, "stop starting trials after this many minutes", minimum=0.1,
                                          maximum=10_080.0, label="budget (minutes)")
    max_drop: float | None = option(1.0, "maximum quality drop vs the FP32 baseline: points of top-1 (or of "
                                         "agreement), or per cent of FP32's perplexity for a language model "
                                         "(default there: 5)", minimum=0.0, maximum=100.0,
                                    label="max drop vs FP32 (points, or % perplexity)")
    max_latency_ms: float | None = option(None, "maximum of the latency objective, ms (per call; per token for "
                                                "inter-token latency)", minimum=0.0, label="max latency (ms)")
    max_size_mb: float | None = option(None, "maximum model size, MB", minimum=0.0, label="max size (MB)")
    strategy: str = option("auto", "auto = exhaustive when the runnable space fits the budget, else NSGA-II",
                           choices=STRATEGIES)
    sampler_seed: int = option(0, "seed of the sampler and of the exhaustive order", minimum=0, label="sampler seed")
    latency_metric: str = option(DEFAULT_LATENCY, "the latency objective (a language model's default: itl_p50_ms)",
                                 choices=LATENCY_METRICS,
                                 label="latency objective")
    paired_check: bool = option(True, "end with a paired re-measurement of the front against the FP32 baseline, so "
                                      "the recommendation's speed-up carries an interval",
                                label="paired check at the end")

    def constraints(self, accuracy: str = DEFAULT_ACCURACY) -> Constraints:
        return Constraints(self.max_drop, self.max_latency_ms, self.max_size_mb, self.latency_metric, accuracy)


def parse_settings(values: dict[str, Any]) -> ExploreSettings:
    settings = parse_options(ExploreSettings, values, what="explore")
    if (settings.budget_runs is None) == (settings.budget_minutes is None):
        raise InferScopeError("give exactly one budget: a number of runs or a number of minutes")
    return settings


def choose_strategy(requested: str, runnable: int, allowed_runs: int) -> str:
    """`auto` means exhaustive when every runnable configuration fits the budget, else NSGA-II."""
    if requested != "auto":
        return requested
    return "exhaustive" if runnable <= allowed_runs else "nsga2"


def settings_of(record: ExplorationRecord) -> ExploreSettings:
    """A stored exploration's budget, constraints and strategy."""
    return parse_settings({k: v for k, v in record.config.items() if k in ExploreSettings.__annotations__})
