"""Paired re-measurement: several runs' configurations rebuilt in one process and timed side by side.

Runs measured at different times cannot be compared closer than the host drifts (on a quiet 2-core
host five separate FP32 runs spread 2.2x). Here every configuration is rebuilt, then timed in
interleaved rounds — each round times a block of calls of every configuration, in a fresh seeded
order each round, after a warm-up by time before each block — so slow drifts hit all of them alike. Each run's
speed ratio to the reference is the reference's block median over its own, per round; the figure is
the median over rounds with a bootstrap 95% interval (resampling rounds), and a verdict: faster,
slower, or no difference beyond the noise threshold.

A language model's call is one greedy generation of its run's new tokens after a prompt (prompts prepared outside
the clock), and its block figure is per generated token, so the ratio is one of generated tokens/s even between runs
that generate a different number of tokens or prompts per call.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.bench.machine import ContentionMeter, machine_lock, noise_note
from core.bench.paired import paired_results
from core.bench.timing import MIN_BLOCK_CALLS, time_block
from core.engine import prepare_generation, prepare_run
from core.lifecycle import run_job
from core.models import generates
from core.options import option, parse_options
from core.progress import Progress, no_progress
from core.quoting import per_call
from core.scenarios.load import request_pool
from core.settings import Settings
from core.store import ComparisonRecord, RunRecord, RunStore
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


@dataclass(frozen=True)
class Contender:
    """One rebuilt configuration ready to be timed in blocks: its call, the prepared inputs it cycles, the fewest
    calls a block holds, and what a call's latency is divided by (a generation's tokens: its figure is per token)."""

    call: Callable[[Any], Any]
    inputs: list[Any]
    min_calls: int = MIN_BLOCK_CALLS
    per_call: int = 1

    def block(self, config: RemeasureConfig) -> float:
        return time_block(self.call, self.inputs, config.block_ms, config.warmup_ms, self.min_calls) / self.per_call


def classifier(run: RunRecord, settings: Settings, progress: Progress, work_dir: Path) -> Contender:
    """A classifier's configuration: its predictor over the first batches of its evaluation inputs."""
    prepared = prepare_run(run, settings, progress, work_dir=work_dir)
    predictor = prepared.predictor()
    natives = [predictor.prepare(batch) for batch in request_pool(prepared.images, prepared.recipe.runtime.batch)[:32]]
    predictor.run(natives[0])  # the cold first call, outside every block
    return Contender(predictor.run, natives)


def generator(run: RunRecord, settings: Settings, progress: Progress, work_dir: Path) -> Contender:
    """A language model's configuration: greedy generations of the run's new tokens after its prompts; a block may
    hold one generation (a generation is already thousands of a classifier's calls long)."""
    prepared = prepare_generation(run, settings, progress, work_dir=work_dir)
    decoder, batches, new_tokens = prepared.decoder(), prepared.prompt_batches(), prepared.model.options["new_tokens"]

    def generate(batch: np.ndarray) -> None:
        decoder.generate(batch, new_tokens)

    generate(batches[0])  # the cold first generation, outside every block
    return Contender(generate, batches, min_calls=1, per_call=per_call(run))


def remeasure(store: RunStore, comparison_id: int, settings: Settings, progress: Progress = no_progress) -> None:
    """Rebuild every run of a claimed comparison and time them in interleaved rounds; stores the results."""
    record = store.comparison(comparison_id)
    config = parse_options(RemeasureConfig, record.config, what="remeasure")
    with machine_lock(f"comparison {comparison_id}", progress), \
            job_folder(settings, f"comparison-{comparison_id}") as folder:
        contenders: dict[int, Contender] = {}
        for k, run_id in enumerate(record.run_ids):
            run = store.get(run_id)
            rebuild = generator if generates(run.model_source) else classifier
            contenders[run_id] = rebuild(run, settings, lambda stage, f, k=k, run_id=run_id: progress(
                f"rebuild {run_id}: {stage}"[:32], (k + f) / len(record.run_ids)), folder / str(run_id))
        blocks: dict[int, list[float]] = {run_id: [] for run_id in record.run_ids}
        shuffle = np.random.default_rng(config.seed)
        with ContentionMeter() as meter:
            for round_index in range(config.rounds):
                # a fresh order every round: nobody always goes first, nor always follows the same neighbour
                for run_id in shuffle.permutation(record.run_ids).tolist():
                    blocks[run_id].append(contenders[run_id].block(config))
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
