"""One configuration of a language model measured end to end, as a generation run will be: quality on held-out
windows against the FP32 reference, greedy continuations against FP32's, then the timed generations (under the
contention meter) and the peak memory — one metrics dict, the continuations, and the notes that explain it."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.bench.machine import ContentionMeter
from core.bench.memory import PeakMemory
from core.bench.timing import TimingConfig, latency_figures, tail_notes
from core.generation import corpus
from core.generation.decoding import Decoder
from core.generation.quality import greedy_agreement, quality_metrics, score
from core.generation.timing import Streams, time_generation, time_streams
from core.options import option
from core.progress import Progress, no_progress


@dataclass(frozen=True)
class GenerationSettings:
    """What a generation run reads and generates."""

    prompt_length: int = option(128, "tokens in each prompt (the first tokens of a held-out text)", minimum=1,
                                maximum=4096, label="prompt tokens")
    new_tokens: int = option(64, "tokens generated after each prompt, greedy and fixed (no end-of-text stops it)",
                             minimum=2, maximum=4096, label="new tokens")
    prompts: int = option(8, "distinct prompts, cycled by the timing and compared with FP32", minimum=1,
                          maximum=1024)
    window: int = option(256, "tokens of each held-out text scored for perplexity", minimum=2, maximum=8192,
                         label="perplexity window")


@dataclass
class Evaluation:
    metrics: dict[str, Any]
    prompts: np.ndarray                # (prompts, prompt tokens)
    continuations: np.ndarray          # (prompts, new tokens): the configuration's greedy tokens
    reference: np.ndarray              # (prompts, new tokens): FP32's
    samples_ms: tuple[float, ...]      # each timed generation, end to end
    contention: Any = None             # the contention meter's reading while timing (core.bench.machine)
    notes: list[str] = field(default_factory=list)
    load: dict[str, Any] = field(default_factory=dict)  # what the load did: the scenario, its streams' requests


def check_fits(settings: GenerationSettings, positions: int | None, batch: int = 1) -> None:
    """Refuse a prompt and continuation longer than the model reads, or a batch of more prompts than there are,
    before anything is measured."""
    from core.errors import RecipeError

    if settings.prompts < batch:
        raise RecipeError(f"prompts ({settings.prompts}) must be at least the batch ({batch}): a batch is made of "
                          "distinct prompts")
    total = settings.prompt_length + settings.new_tokens
    if positions is not None and total > positions:
        raise RecipeError(f"prompt tokens ({settings.prompt_length}) plus new tokens ({settings.new_tokens}) is "
                          f"{total}, beyond the {positions} positions the model reads; shorten one of them")


def evaluate(decoder: Decoder, reference: Decoder, tokenizer: Any, texts: list[str], settings: GenerationSettings,
             timing: TimingConfig, progress: Progress = no_progress, windows: int = 100, batch: int = 1,
             streams: Streams | None = None, fresh: Callable[[], Decoder] | None = None) -> Evaluation:
    """Measure `decoder` against `reference` (the FP32 model, eager with its KV cache) on `texts`; one stream after
    another, or `streams` concurrent clients (`fresh()` makes each further instance of the configuration)."""
    prompts = corpus.prompts(tokenizer, texts, settings.prompt_length, settings.prompts)
    scored = corpus.windows(tokenizer, texts, settings.window, windows)
    expected = reference.generate(prompts, settings.new_tokens).tokens
    # memory is sampled here, where the configuration scores and generates, never beside the timing loop
    with PeakMemory() as peak:
        quality = quality_metrics(score(decoder.logits, scored, reference_of=reference.logits, progress=progress,
                                        stage="evaluate"))
        tokens = decoder.generate(prompts, settings.new_tokens).tokens
    progress("continuations", 1.0)
    load: dict[str, Any] = {"scenario": "single-stream"}
    with ContentionMeter() as meter:
        if streams is None:
            timed = time_generation(decoder, prompts, settings.new_tokens, timing, batch, progress)
        else:
            timed, load = time_streams(decoder, fresh or (lambda: decoder), prompts, settings.new_tokens, timing,
                                       streams, batch, progress)
    contention = meter.result.metrics() if meter.result else {}
    metrics = {**latency_figures(timed.stats), **timed.metrics(), **quality, **greedy_agreement(tokens, expected),
               **contention, "peak_mem_mb": peak.mb, "prompt_tokens": settings.prompt_length}
    notes = tail_notes(timed.stats.count, "timed generations")
    if load.get("stopped_by_time"):
        notes.append(f"the timing protocol's max seconds ended the streams after {timed.stats.count} generation(s)")
    elif streams is None and timed.stats.count < timing.required_calls:
        notes.append(f"the timing protocol's max seconds ended the timing after {timed.stats.count} generation(s) of "
                     f"the {timing.required_calls} asked for")
    return Evaluation(metrics, prompts, tokens, expected, timed.e2e_ms, meter.result, notes, load)
