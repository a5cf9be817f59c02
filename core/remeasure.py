"""Paired re-measurement: several runs' configurations rebuilt in one process and timed side by side.

Runs measured at different times cannot be compared closer than the host drifts (on a quiet 2-core
host five separate FP32 runs spread 2.2x). Here every configuration is rebuilt, then timed in
interleaved rounds — each round times a block of calls of every configuration, in a fresh seeded
order each round, after a warm-up by time before each block — so slow drifts hit all of them alike. Each run's
speed ratio to the reference is the reference's block median over its own, per round; the figure is
the median over rounds with a bootstrap 95% interval (resampling rounds), and a verdict: faster,
slower, or no difference beyond the noise threshold.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.bench.machine import ContentionMeter, machine_lock, noise_note
from core.bench.paired import paired_results
from core.bench.timing import time_block
from core.engine import prepare_run
from core.lifecycle import run_job
from core.options import option, parse_options
from core.progress import Progress, no_progress
from core.scenarios.load import request_pool
from core.settings import Settings
from core.store import ComparisonRecord, RunStore
from core.workdirs import job_folder


@dataclass(frozen=True)
class RemeasureConfig:
    # Many short rounds pair tighter than few long ones, and a longer whole averages over more of the
    # host's regimes (on a 2-core VM, five re-measurements of FP32 vs INT8 spread 1.32x with 60 rounds
    # and 1.10x with 200; benchmarks/repeatability.py).
    rounds: int = option(200, "interleaved rounds; every round times a block of each configuration", minimum=3,
                         maximum=5000, label="rounds")
    block_ms: float = option(25.0, "each configuration is timed for this long per round, ms (at least 10 calls)",
                             minimum=1.0, maximum=600_000.0, label="block length (ms)")
    warmup_ms: float = option(10.0, "untimed calls for this long before each block, ms: caches and thread pools "
                                    "settle after the previous configuration", minimum=0.0, maximum=60_000.0,
                              label="warm-up per block (ms)")
    noise_pct: float = option(2.0, "speed differences within this share are \"no difference\", %", minimum=0.0,
                              maximum=100.0, label="noise threshold (%)")
    seed: int = option(0, "seed of the bootstrap", minimum=0)


def remeasure(store: RunStore, comparison_id: int, settings: Settings, progress: Progress = no_progress) -> None:
    """Rebuild every run of a claimed comparison and time them in interleaved rounds; stores the results."""
    record = store.comparison(comparison_id)
    config = parse_options(RemeasureConfig, record.config, what="remeasure")
    with machine_lock(f"comparison {comparison_id}", progress), \
            job_folder(settings, f"comparison-{comparison_id}") as folder:
        predictors, natives = {}, {}
        for k, run_id in enumerate(record.run_ids):
            run = store.get(run_id)
            prepared = prepare_run(run, settings, lambda stage, f, k=k, run_id=run_id: progress(
                f"rebuild {run_id}: {stage}"[:32], (k + f) / len(record.run_ids)), work_dir=folder / str(run_id))
            predictor = prepared.predictor()
            pool = request_pool(prepared.images, prepared.recipe.runtime.batch)[:32]
            predictors[run_id] = predictor
            natives[run_id] = [predictor.prepare(batch) for batch in pool]
            predictor.run(natives[run_id][0])  # the cold first call, outside every block
        blocks: dict[int, list[float]] = {run_id: [] for run_id in record.run_ids}
        shuffle = np.random.default_rng(config.seed)
        with ContentionMeter() as meter:
            for round_index in range(config.rounds):
                # a fresh order every round: nobody always goes first, nor always follows the same neighbour
                for run_id in shuffle.permutation(record.run_ids).tolist():
                    blocks[run_id].append(time_block(predictors[run_id].run, natives[run_id], config.block_ms,
                                                     config.warmup_ms))
                progress("paired rounds", (round_index + 1) / config.rounds)
    results = paired_results(blocks, record.reference_id, config.noise_pct, config.seed)
    noisy = noise_note(meter.result, settings.noisy_cpu_pct)
    store.end("comparison", comparison_id, "done", results=[r.__dict__ for r in results],
              blocks={str(k): v for k, v in blocks.items()}, noisy=noisy is not None, note=noisy,
              contention=meter.result.metrics())


def execute_comparison(store: RunStore, comparison_id: int, settings: Settings,
                       progress: Progress = no_progress) -> ComparisonRecord:
    """Run a claimed comparison to its end state (`core.lifecycle`)."""
    return run_job(store, "comparison", comparison_id,
                   lambda report: remeasure(store, comparison_id, settings, report), lambda _: None, progress)
