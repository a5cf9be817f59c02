"""Accuracy-aware INT8 (`ort_static_int8:max_drop=…`), as OpenVINO POT's AccuracyAware does it.

Quantize everything and score the model on validation images (disjoint from the calibration images
and from the run's subset, so the subset's accuracy is not the one the choice was fitted to). While
the drop against FP32 exceeds `max_drop`, move the node adding the most quantization noise back to
float, quantize again, and re-rank: after each move the noise shifts, so the next node is chosen on
the new model. Every step (nodes in float, accuracy, latency) goes into the run's notes, and so does
a target that cannot be reached.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from core.bench.accuracy import predicted
from core.bench.timing import time_block
from core.inputs import feeds
from core.quantization.noise import node_noise
from core.techniques.base import BuildContext
from core.techniques.scoring import call_batch, cpu_session, onnx_logits

# Activations compared to re-rank the nodes after each move (a sample of the calibration images).
RANKING_IMAGES = 64
BLOCK_MS, WARMUP_MS = 50.0, 10.0  # each step's latency: a short block, enough to rank the steps' cost


def accuracy_aware(float_path: Path, model_bytes: bytes, calibration: np.ndarray, config: Any, ctx: BuildContext,
                   quantize: Callable[[list[str], float], bytes]) -> bytes:
    """The quantized model with the fewest nodes moved back to float that keeps the drop within `max_drop`."""
    images, labels = ctx.validation(config.calibration_size, config.validation_size)
    float_bytes = float_path.read_bytes()
    batch = call_batch(float_bytes, ctx.batch)
    usable = len(images) // batch * batch  # a model of fixed batch takes whole batches only
    images, labels = images[:usable], None if labels is None else labels[:usable]
    metric = "top-1" if labels is not None else "agreement with FP32"
    truth = labels if labels is not None else predicted(onnx_logits(float_bytes, images, batch))

    def score(candidate: bytes) -> float:
        return float(100.0 * np.mean(predicted(onnx_logits(candidate, images, batch)) == truth))

    reference = score(float_bytes)
    kept = list(config.keep_float or ())
    value = score(model_bytes)
    steps = [f"all quantized: {value:.2f} ({_latency_ms(model_bytes, images, batch):.3g} ms)"]
    reachable = True
    while reference - value > config.max_drop:
        ctx.progress("ort_static_int8 · accuracy-aware", min(0.95, 0.3 + 0.05 * len(steps)))
        ranking = [r for r in node_noise(float_path, model_bytes, calibration[:RANKING_IMAGES], ctx.work_dir)
                   if r.node not in kept]
        if not ranking:
            reachable = False
            break
        kept.append(ranking[0].node)
        model_bytes = quantize(kept, 0.0)
        value = score(model_bytes)
        steps.append(f"+ {ranking[0].node} in float: {value:.2f} ({_latency_ms(model_bytes, images, batch):.3g} ms)")
    points = f"{config.max_drop:g} point{'' if config.max_drop == 1 else 's'}"
    outcome = (f"within {points} with {len(kept)} node(s) in float" if reachable else
               f"the target of {points} was not reachable: with every node it could move in float {metric} is "
               f"{value:.2f}")
    ctx.notes.append(f"ort_static_int8 accuracy-aware: FP32 {metric} {reference:.2f} on {len(images)} validation "
                     f"images; " + "; ".join(steps) + f" — {outcome}")
    one_image = 100.0 / len(images)
    if config.max_drop < one_image:  # the loop then chases single images, i.e. noise, at the cost of speed
        ctx.notes.append(f"ort_static_int8 accuracy-aware: max_drop {config.max_drop:g} is less than one validation "
                         f"image ({one_image:.2f} points): raise validation_size to at least "
                         f"{int(100.0 / config.max_drop) + 1} or max_drop to {one_image:.2f}")
    return model_bytes


def _latency_ms(model_bytes: bytes, images: np.ndarray, batch: int) -> float:
    """Median wall time of one call at the run's batch (core.bench's block timer): a step's cost, not the run's
    measurement."""
    session = cpu_session(model_bytes)
    feed = feeds([i.name for i in session.get_inputs()], images[:batch])
    return time_block(lambda native: session.run(None, native), [feed], BLOCK_MS, WARMUP_MS)
