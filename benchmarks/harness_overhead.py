"""Harness overhead: the same ONNX model timed through the engine vs a minimal raw onnxruntime loop.

Both use one InferenceSession configuration (same threads, same graph optimizations, same input),
interleaved in one process; per-call time is wall time / calls, so everything the engine adds counts.
Target (issue 2): engine / raw <= 1.02 on a model of realistic size.

    .venv/bin/python benchmarks/harness_overhead.py [--rounds 7] [--seconds 2]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET = 1.02


def onnx_models() -> dict[str, bytes]:
    """ResNet-18 at 224x224 (~20 ms here) and the default Fashion-MNIST architecture (~0.3 ms), random weights."""
    import torchvision

    from core.models.local_archs import ResNet8
    from core.techniques.onnx_export import OnnxExportConfig, export_bytes

    rng = np.random.default_rng(0)
    return {
        "resnet18 224x224": export_bytes(torchvision.models.resnet18().eval(),
                                         rng.standard_normal((1, 3, 224, 224)).astype(np.float32),
                                         OnnxExportConfig(), 1),
        "resnet8 28x28": export_bytes(ResNet8().eval(), rng.standard_normal((1, 1, 28, 28)).astype(np.float32),
                                      OnnxExportConfig(), 1),
    }


def raw_loop(session, feed, seconds: float) -> float:
    """ms per call of the tightest loop onnxruntime allows."""
    run = session.run
    calls, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        run(None, feed)
        calls += 1
        if calls % 16 == 0 and time.perf_counter() >= deadline:
            break
    return (time.perf_counter() - start) * 1000 / calls


def engine_loop(predictor, native, seconds: float) -> float:
    """ms per call through the engine's timing loop (per-call clocks, progress checks included)."""
    from core.bench.timing import TimingConfig, measure

    stats = measure(predictor.run, native, TimingConfig(warmup=0, min_repeats=1, min_seconds=seconds), batch=1,
                    first_ms=0.0)
    return stats.wall_seconds * 1000 / stats.count


def main() -> int:
    import onnxruntime as ort

    from core.artifacts import OnnxArtifact
    from core.recipe import RuntimeSettings
    from core.runtimes import default_threads, make_predictor
    from core.runtimes.ort_runtime import session_options

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    threads = default_threads()
    print(f"threads={threads}, {args.rounds} interleaved rounds of {args.seconds:.1f} s each\n")
    print("| model | raw ORT ms/call | engine ms/call | engine / raw |")
    print("|---|---|---|---|")
    worst = 0.0
    for name, model_bytes in onnx_models().items():
        x = np.random.default_rng(1).standard_normal((1, *_input_shape(model_bytes))).astype(np.float32)
        predictor = make_predictor(OnnxArtifact(model_bytes), RuntimeSettings(threads=threads, batch=1))
        raw = ort.InferenceSession(model_bytes, sess_options=session_options({}, threads),
                                   providers=["CPUExecutionProvider"])
        feed, native = {raw.get_inputs()[0].name: x}, predictor.prepare(x)
        for _ in range(20):  # warm both
            raw.run(None, feed)
            predictor.run(native)
        raws, engines, ratios = [], [], []
        for _ in range(args.rounds):
            r = raw_loop(raw, feed, args.seconds)
            e = engine_loop(predictor, native, args.seconds)
            raws.append(r)
            engines.append(e)
            ratios.append(e / r)
        ratio = statistics.median(ratios)
        worst = max(worst, ratio) if name.startswith("resnet18") else worst
        print(f"| {name} | {statistics.median(raws):.4f} | {statistics.median(engines):.4f} | {ratio:.3f} |",
              flush=True)
    print(f"\nResNet-18 overhead within target (<= {TARGET}): {'yes' if worst <= TARGET else 'NO'}")
    return 0 if worst <= TARGET else 1


def _input_shape(model_bytes: bytes) -> tuple[int, ...]:
    import onnx

    dims = onnx.load_from_string(model_bytes).graph.input[0].type.tensor_type.shape.dim[1:]
    return tuple(d.dim_value for d in dims)


if __name__ == "__main__":
    sys.exit(main())
