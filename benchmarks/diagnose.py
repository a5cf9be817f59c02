"""Where INT8 loses accuracy, and what accuracy-aware INT8 wins back at what speed.

On the default model (`resnet8`) and on `mobilenetv2-tiny` (depthwise convolutions: the INT8-sensitive
kind), both trained here on Fashion-MNIST: eager FP32, ONNX Runtime FP32, static INT8 and accuracy-aware
static INT8 (`max_drop`), each an ordinary run on the same 1000-image subset; their speed is then
re-measured side by side (paired rounds, so drift hits all alike) against eager FP32, and the INT8 run
is diagnosed (its most sensitive nodes and the top-1 each recovers in float).

    .venv/bin/python benchmarks/diagnose.py [--models resnet8 mobilenetv2-tiny] [--max-drop 0.2] [--subset 1000]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["resnet8", "mobilenetv2-tiny"])
    parser.add_argument("--max-drop", type=float, default=0.2)
    parser.add_argument("--subset", type=int, default=1000)
    args = parser.parse_args()
    os.environ["INFERSCOPE_DB"] = f"sqlite:///{Path(tempfile.mkdtemp(prefix='inferscope-diagnose-')) / 'runs.db'}"
    from core.api import InferScope
    from core.planning import RunRequest, StepSpec
    from core.progress import TqdmProgress

    api = InferScope()
    per_tensor = {"per_channel": False}  # one scale per weight tensor: what depthwise convolutions suffer from
    variants = {"eager FP32": (), "ORT FP32": (("onnx_export", {}),),
                "ORT static INT8": (("onnx_export", {}), ("ort_static_int8", {})),
                f"ORT static INT8, accuracy-aware (max_drop={args.max_drop:g})":
                    (("onnx_export", {}), ("ort_static_int8", {"max_drop": args.max_drop})),
                "ORT static INT8 per-tensor": (("onnx_export", {}), ("ort_static_int8", per_tensor)),
                f"ORT static INT8 per-tensor, accuracy-aware (max_drop={args.max_drop:g})":
                    (("onnx_export", {}), ("ort_static_int8", {**per_tensor, "max_drop": args.max_drop}))}
    rows = []
    for model in args.models:
        runs = {}
        with TqdmProgress() as bar:
            for name, steps in variants.items():
                request = RunRequest(model=model, subset=args.subset, techniques=tuple(StepSpec(*s) for s in steps))
                runs[name] = api.execute(api.submit(request), bar)
            base = runs["eager FP32"]
            paired = api.remeasure([r.id for r in runs.values()], base.id, {"rounds": 100}, bar)
            diagnosis = api.diagnose(runs["ORT static INT8"].id, {"candidates": 5}, bar)
        for name, run in runs.items():
            result = paired.result(run.id)
            aware = [n for n in run.notes if "accuracy-aware" in n]
            rows.append({"model": model, "configuration": name, "top1": run.metrics["top1"],
                         "drop": base.metrics["top1"] - run.metrics["top1"],
                         "speedup": "1.00x" if run.id == base.id else
                         f"{result['ratio']:.2f}x ({result['ci_low']:.2f}–{result['ci_high']:.2f})",
                         "note": aware[0].split("accuracy-aware: ", 1)[1] if aware else ""})
        top = diagnosis.nodes[:3]
        print(f"\n{model}: diagnosis of the INT8 run — " + "; ".join(
            f"{n['node']} ({n['op_type']}) adds {n['noise_added_pct']:.3g}% noise, recovers "
            + ("not tried" if n["recovered"] is None else f"{n['recovered']:+.2f} points") for n in top))
    print("\n| model | configuration | top-1 % | drop vs FP32 | speed vs eager FP32 (paired, 95% interval) | "
          "accuracy-aware steps |\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['configuration']} | {r['top1']:.2f} | {r['drop']:+.2f} | {r['speedup']} | "
              f"{r['note']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
