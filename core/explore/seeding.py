"""What an exploration starts from: stored baselines it can reuse, the configurations it measures before
sampling, and whether its budget can learn anything at all.

A small budget is easily wasted: re-measuring an FP32 baseline the store already has, or letting a
sampler that knows nothing yet spend the few trials on long shots. So a baseline measured before, here,
in the same configuration and on a quiet machine is reused (it costs no budget), and the configurations
that transfer well to most CNNs on a CPU (ONNX Runtime in FP32, static INT8 per channel, NNCF INT8 in
OpenVINO) go first; for a language model, the weight-only INT4 of each engine (MatMulNBits in ONNX Runtime, NNCF
in OpenVINO), which a memory-bound decode step gains most from.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.explore.space import Configuration
from core.recipe import parse_step
from core.store import RunRecord, RunSpec

# Recipes measured right after the baselines, before any sampling, where the space has them: per start kind.
SEED_RECIPES: dict[str, tuple[tuple[str, ...], ...]] = {
    "torch": (("onnx_export",), ("onnx_export", "ort_static_int8:per_channel=true"),
              ("onnx_export", "nncf_int8", "openvino")),
    "onnx": (("ort_static_int8:per_channel=true",), ("nncf_int8", "openvino")),
    "lm": (("lm_onnx_export", "matmul_nbits"), ("lm_onnx_export", "lm_openvino", "nncf_weight_compression")),
}
SEEDS_IN_WORDS = {"torch": "ONNX Runtime FP32 and static INT8, and NNCF INT8 in OpenVINO",
                  "onnx": "ONNX Runtime static INT8, and NNCF INT8 in OpenVINO",
                  "lm": "weight-only INT4 in ONNX Runtime and in OpenVINO"}
# Sampled trials a budget needs beyond the baselines and seeds before the sampler has learnt anything.
MIN_SAMPLED_TRIALS = 4
# The fields that make a stored run the same measurement as a planned one (besides its environment).
SAME_MEASUREMENT = ("model", "model_source", "model_options", "dataset", "dataset_location", "subset_size",
                    "subset_seed", "recipe", "scenario", "scenario_config")


def _steps(specs: Sequence[str]) -> list[dict[str, Any]]:
    return [parse_step(spec).to_dict() for spec in specs]


def seed_configurations(runnable: Sequence[Configuration], start: str) -> list[Configuration]:
    """The runnable configurations with a seed recipe, at the default runtime (all cores when the space has
    it, else its first threads value; its first batch)."""
    if not runnable:
        return []
    threads_values = list(dict.fromkeys(c.threads for c in runnable))
    threads = None if None in threads_values else threads_values[0]
    batch = runnable[0].batch
    wanted = [_steps(recipe) for recipe in SEED_RECIPES.get(start, ())]
    seeds = []
    for recipe in wanted:
        match = next((c for c in runnable if c.threads == threads and c.batch == batch
                      and _steps(c.techniques) == recipe), None)
        if match is not None:
            seeds.append(match)
    return seeds


def reusable_run(spec: RunSpec, runs: Sequence[RunRecord], fingerprint: str) -> RunRecord | None:
    """The newest done, quiet run measured on this machine (`fingerprint`) of exactly the planned `spec`
    (model, data, recipe, runtime and scenario; the timing protocol may differ); None when there is none."""
    runtime = {k: v for k, v in spec.runtime.items() if k != "timing"}
    for run in reversed(runs):
        if (run.status == "done" and not run.noisy and run.env_fingerprint == fingerprint
                and {k: v for k, v in run.runtime.items() if k != "timing"} == runtime
                and all(getattr(run, name) == getattr(spec, name) for name in SAME_MEASUREMENT)):
            return run
    return None


@dataclass(frozen=True)
class BudgetAdvice:
    """How a budget of runs splits: baselines to measure, seeds, what is left for sampling."""

    budget_runs: int
    baselines: int        # baselines it must measure (reused ones excluded)
    reused: int           # baselines taken from the store
    seeds: int
    start: str = "torch"  # what the model starts as: which seeds those are (SEEDS_IN_WORDS)

    @property
    def trials(self) -> int:
        return max(0, self.budget_runs - self.baselines)

    @property
    def recommended(self) -> int:
        return self.baselines + self.seeds + MIN_SAMPLED_TRIALS

    @property
    def too_small(self) -> bool:
        return self.budget_runs < self.recommended

    def words(self) -> str:
        """"4 runs: 2 baselines + 2 trials; 8 recommended …", saying which baselines are reused, when any."""
        runs, trials = _count(self.budget_runs, "run"), _count(self.trials, "trial")
        if not self.reused:
            text = f"{runs}: {_count(self.baselines, 'baseline')} + {trials}"
        elif self.baselines:
            text = (f"{runs}: {_count(self.baselines, 'baseline')} + {trials} ({self.reused} more "
                    f"{'baseline' if self.reused == 1 else 'baselines'} reused from the store)")
        else:
            text = f"{runs}: {trials} ({_count(self.reused, 'baseline')} reused from the store)"
        if not self.too_small:
            return text
        return (f"{text}; {self.recommended} recommended: the first {self.seeds} trial(s) measure the seeds "
                f"({SEEDS_IN_WORDS[self.start]}) and the sampler needs {MIN_SAMPLED_TRIALS} more to learn anything")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
