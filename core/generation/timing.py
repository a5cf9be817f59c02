"""Generation timed with the run's protocol (`core.bench.timing.TimingConfig`): a cold first generation apart,
warm-up, then timed generations until a count and a duration are both met. Each generation is stamped token by
token: time to first token (the prompt's prefill and one token), the gaps between the tokens after it
(inter-token latency, every gap of every timed generation), end-to-end latency and tokens per second."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from core.bench.percentiles import percentile_interval, supported
from core.bench.timing import TimingConfig
from core.generation.decoding import Decoder
from core.progress import Progress, no_progress

PERCENTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0}


@dataclass(frozen=True)
class GenerationTiming:
    """The timed generations of one configuration, in milliseconds."""

    first_ms: float                  # the cold first generation, end to end
    ttft_ms: tuple[float, ...]       # per timed generation
    itl_ms: tuple[float, ...]        # every gap between consecutive tokens
    e2e_ms: tuple[float, ...]        # per timed generation
    wall_seconds: float
    batch: int
    new_tokens: int

    @property
    def tokens_per_s(self) -> float:
        """New tokens per second over the timed loop's wall time (every stream's tokens)."""
        return self.batch * self.new_tokens * len(self.e2e_ms) / self.wall_seconds

    def metrics(self) -> dict[str, float | int | None]:
        """TTFT, inter-token and end-to-end percentiles with 95% intervals (a tail only where its sample count
        supports it), tokens/s, and the counts behind them."""
        out: dict[str, float | int | None] = {"generate_first_ms": self.first_ms, "tokens_per_s": self.tokens_per_s,
                                              "generations": len(self.e2e_ms), "new_tokens": self.new_tokens,
                                              "timing_seconds": self.wall_seconds}
        for name, samples, percentiles in (("ttft", self.ttft_ms, ("p50", "p90")), ("itl", self.itl_ms, PERCENTILES),
                                           ("e2e", self.e2e_ms, ("p50",))):
            for label in percentiles:
                q = PERCENTILES[label]
                ok = supported(q, len(samples))
                interval = percentile_interval(samples, q) if ok else None
                out[f"{name}_{label}_ms"] = float(np.percentile(samples, q)) if ok else None
                out[f"{name}_{label}_ms_ci_low"], out[f"{name}_{label}_ms_ci_high"] = interval or (None, None)
        return out


def time_generation(decoder: Decoder, prompts: np.ndarray, new_tokens: int, config: TimingConfig,
                    batch: int = 1, progress: Progress = no_progress, stage: str = "time") -> GenerationTiming:
    """Time greedy generations of `new_tokens` after batches of `prompts` (rows of equal length, cycled in order);
    preparing each batch stays outside the clock."""
    clock = time.perf_counter_ns
    batches = [np.ascontiguousarray(prompts[i:i + batch]) for i in range(0, len(prompts) - batch + 1, batch)]
    if not batches:
        raise ValueError(f"{len(prompts)} prompt(s) cannot fill a batch of {batch}")
    calls = 0

    def generate():
        nonlocal calls
        prompt = batches[calls % len(batches)]
        calls += 1
        start = clock()
        generated = decoder.generate(prompt, new_tokens, clock)
        return generated, (clock() - start) / 1e6

    _, first_ms = generate()
    warm_start, warm_calls = clock(), 0
    while config.warming(warm_calls, clock() - warm_start):
        generate()
        warm_calls += 1
    ttft, itl, e2e = [], [], []
    loop_start, elapsed = clock(), 0
    required, min_ns, max_ns = config.required_calls, config.min_seconds * 1e9, config.max_seconds * 1e9
    while len(e2e) < required or elapsed < min_ns:
        generated, total_ms = generate()
        stamps = np.asarray(generated.stamps_ns, dtype=np.float64) / 1e6
        ttft.append(float(stamps[0]))
        itl.extend(np.diff(stamps).tolist())
        e2e.append(total_ms)
        elapsed = clock() - loop_start
        progress(stage, min(1.0, len(e2e) / required, elapsed / min_ns if min_ns else 1.0))  # done when both are
        if elapsed >= max_ns:
            break
    return GenerationTiming(first_ms, tuple(ttft), tuple(itl), tuple(e2e), elapsed / 1e9, batch, new_tokens)
