"""The README's results table: the default model through this issue's techniques, measured by the engine.

Runs go into a temporary store (never the user's); the trained model comes from the normal cache, so
the first call trains it. Each configuration runs in this one process, back to back, on the same
1000-image seeded subset; speedups are ratios to eager FP32 from the same process.

    .venv/bin/python bench/default_model_table.py [--subset 1000] [--batch 1] [--seconds 3]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CONFIGURATIONS = {
    "PyTorch eager FP32": (),
    "ONNX Runtime FP32": ("onnx_export",),
    "ONNX Runtime FP32, no graph optimizations": ("onnx_export", "ort:graph_optimization=disable"),
    "ONNX Runtime static INT8 (QDQ, per-channel, MinMax)": ("onnx_export", "ort_static_int8"),
    "ONNX Runtime static INT8 (QDQ, per-tensor, Entropy)": ("onnx_export",
                                                            "ort_static_int8:per_channel=false,calibration_method=Entropy"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None)
    parser.add_argument("--subset", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["INFERSCOPE_DB"] = f"sqlite:///{tmp}/bench.db"
        from core.api import InferScope, RunRequest
        from core.models import DEFAULT_MODEL
        from core.progress import TqdmProgress

        model = args.model or DEFAULT_MODEL
        api = InferScope()
        results = {}
        for label, techniques in CONFIGURATIONS.items():
            request = RunRequest(model=model, subset=args.subset, techniques=techniques, batch=args.batch,
                                 timing={"min_seconds": args.seconds, "min_repeats": 200})
            bar = TqdmProgress()
            run = api.execute(api.submit(request), bar)
            bar.close()
            if run.status != "done":
                print(f"{label}: {run.status}: {run.error}", file=sys.stderr)
                return 1
            results[label] = run
        base = results["PyTorch eager FP32"].metrics["latency_p50_ms"]
        print(f"\n{model} on Fashion-MNIST, subset {args.subset}, batch {args.batch}, "
              f"{results['PyTorch eager FP32'].environment['cpu']}, "
              f"{results['PyTorch eager FP32'].environment['runtime_settings']['threads']} threads\n")
        print("| configuration | p50 ms | p99 ms | speedup (p50) | images/s | top-1 % (95% CI) | agreement % | size MB |")
        print("|---|---|---|---|---|---|---|---|")
        for label, run in results.items():
            m = run.metrics
            print(f"| {label} | {m['latency_p50_ms']:.3f} | {m['latency_p99_ms']:.3f} | "
                  f"{base / m['latency_p50_ms']:.2f}x | {m['throughput_ips']:.0f} | "
                  f"{m['top1']:.1f} ({m['top1_ci_low']:.1f}-{m['top1_ci_high']:.1f}) | {m['agreement']:.1f} | "
                  f"{m['size_mb']:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
