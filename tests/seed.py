"""Synthetic stored runs for UI tests and the Results-page render benchmark (clearly fake metrics)."""
from __future__ import annotations

import random
from dataclasses import replace

from core.store import RunSpec, RunStore

RECIPES = [[], [{"technique": "onnx_export", "config": {}}],
           [{"technique": "onnx_export", "config": {}}, {"technique": "ort_static_int8", "config": {"per_channel": True}}],
           [{"technique": "onnx_export", "config": {}}, {"technique": "ort", "config": {"graph_optimization": "disable"}}]]


def create_run(store: RunStore, model: str, recipe: list, batch: int, scenario: str = "single-stream",
               exploration_id: int | None = None, target: str | None = None) -> int:
    """One queued run of `model` on the default Fashion-MNIST subset."""
    return store.create_run(RunSpec(model=model, model_source="local", model_options={}, dataset="fashion-mnist",
                                    dataset_location="/usr/share/datasets/fashion-mnist", subset_size=1000,
                                    subset_seed=0, subset_split="test", calibration_split=None, recipe=recipe,
                                    runtime={"threads": None, "batch": batch, "device": "cpu"}, scenario=scenario,
                                    scenario_config={}, target=target), exploration_id=exploration_id)


def seed_queued(store: RunStore, count: int) -> list[int]:
    """`count` queued runs (nothing measured yet)."""
    return [create_run(store, "resnet8", RECIPES[i % len(RECIPES)], 1) for i in range(count)]


def seed_runs(store: RunStore, count: int, *, models=("resnet8", "lenet5"), seed: int = 0,
              fingerprint: str = "env-a", scenarios=("single-stream",), exploration_id: int | None = None,
              noisy: tuple[int, ...] = (), target: str | None = None) -> list[int]:
    """`count` done runs: per model an FP32 baseline first, then faster and slightly less accurate variants.

    Scenarios are assigned round-robin; the runs at the positions in `noisy` were "timed on a busy machine".
    """
    rng = random.Random(seed)
    ids = []
    for i in range(count):
        model = models[i % len(models)]
        recipe = RECIPES[0] if i < len(models) else rng.choice(RECIPES)
        speed = 1.0 if not recipe else rng.uniform(2.0, 9.0)
        p50 = 1.0 / speed
        top1 = 92.0 - (0.0 if not recipe else rng.uniform(0.0, 2.5))
        run_id = create_run(store, model, recipe, rng.choice([1, 8]), scenarios[i % len(scenarios)], exploration_id,
                            target)
        store.start("run", run_id)
        samples = [p50 * rng.uniform(0.9, 1.3) for _ in range(50)]
        store.finish(run_id, metrics={
            "latency_first_ms": p50 * 5, "latency_p25_ms": p50 * 0.95, "latency_p50_ms": p50,
            "latency_p75_ms": p50 * 1.08, "latency_p90_ms": p50 * 1.15, "latency_p95_ms": p50 * 1.2,
            "latency_p99_ms": p50 * 1.5, "latency_mean_ms": p50 * 1.05, "latency_std_ms": p50 * 0.1,
            "latency_count": 50, "timing_seconds": 2.0, "throughput_ips": 1000 / p50, "top1": top1,
            "top1_ci_low": top1 - 1.7, "top1_ci_high": top1 + 1.5, "top5": 99.5, "top5_ci_low": 99.0,
            "top5_ci_high": 99.8, "agreement": 100.0 if not recipe else rng.uniform(98, 100),
            "agreement_ci_low": 97.0, "agreement_ci_high": 100.0, "logit_cosine": 0.999, "size_mb": 0.33,
            "peak_mem_mb": 900.0, "eval_samples": 1000, "other_cpu_pct": 140.0 if i in noisy else 3.0},
            samples_ms=samples, notes=[], environment={"cpu": "seeded", "runtime_settings": {"threads": 2}},
            fingerprint=fingerprint, engine="onnxruntime" if recipe else "torch-eager", extra={"noisy": i in noisy},
            predictions=[(k * 7 + (1 if recipe and k % 50 == i % 50 else 0)) % 10 for k in range(1000)])
        ids.append(run_id)
    return ids


def seed_curve(store: RunStore, run_id: int, *, capacity: float = 400.0, bound_ms: float = 5.0) -> int:
    """A finished latency-throughput curve for `run_id` (fake points shaped like a real sweep)."""
    from core.store import CurvePoint

    curve_id = store.create_curve(run_id, {"latency_bound_ms": bound_ms, "points": 6})
    store.start("curve", curve_id)
    for k in range(6):
        rate = capacity * 0.2 * 1.8 ** k
        achieved = min(rate, capacity) * 0.98
        load = min(achieved / capacity, 0.99)
        p50 = 1.0 / (1 - load)
        store.add_curve_point(curve_id, CurvePoint(rate, achieved, p50, p50 * 2, p50 * 4, p50 * 6,
                                                   100.0 * load ** 4, int(rate * 3), 0), (k + 1) / 6)
    store.end("curve", curve_id, "done", saturation_rps=capacity * 0.98)
    return curve_id


def seed_exploration(store: RunStore, count: int, *, status: str = "done", seed: int = 0) -> int:
    """An exploration of resnet8 with `count` seeded trials (fake metrics); ends in `status`."""
    from core.explore import default_space

    exploration_id = store.create_exploration({"budget_runs": count, "max_drop": 1.0, "strategy": "auto",
                                               "model": "resnet8", "dataset": "fashion-mnist", "subset": 1000,
                                               "space": default_space("torch").to_dict(), "start": "torch",
                                               "expected_runs": count})
    store.resume("exploration", exploration_id)
    seed_runs(store, count, models=("resnet8",), seed=seed, exploration_id=exploration_id)
    store.update_exploration(exploration_id, trials=count, spent_s=60.0 * count, strategy="exhaustive",
                             progress=1.0 if status == "done" else 0.5)
    if status != "running":
        store.end("exploration", exploration_id, status)
    return exploration_id


def seed_recipe_run(api, run_request, specs, **request) -> int:
    """A done run of the technique `specs` with made-up metrics, for what is decided from the recipe alone
    (`request`: the run request's fields other than its techniques)."""
    from core.recipe import parse_step

    planned = api.plan(run_request(**request)).spec
    run_id = api.store.create_run(replace(planned, recipe=[parse_step(spec).to_dict() for spec in specs]))
    api.store.start("run", run_id)
    api.store.finish(run_id, metrics={"latency_p50_ms": 1.0, "top1": 80.0}, samples_ms=[1.0], notes=[],
                     environment={}, fingerprint="seeded", engine="torch-eager")
    return run_id


def seed_comparison(store: RunStore, run_ids: list[int], reference_id: int, speedups: dict[int, float]) -> int:
    """A done paired re-measurement with synthetic block medians (`speedups`: run id -> x faster)."""
    from core.bench.paired import paired_results

    rng = random.Random(1)
    comparison_id = store.create_comparison(run_ids, reference_id, {"rounds": 20, "noise_pct": 2.0})
    store.start("comparison", comparison_id)
    drift = [1.0 + 0.2 * rng.random() for _ in range(20)]
    blocks = {i: [d / speedups.get(i, 1.0) * rng.uniform(0.99, 1.01) for d in drift] for i in run_ids}
    store.end("comparison", comparison_id, "done", results=[r.__dict__ for r in paired_results(blocks, reference_id, 2.0)],
              blocks={str(k): v for k, v in blocks.items()})
    return comparison_id
