"""How repeatable InferScope's speed figures are: separate runs against paired re-measurements.

Five separate runs of one FP32 configuration and five of its INT8 variant (the default model,
subset 200, the default timing protocol), then five paired re-measurements of FP32 against INT8.
Prints the spread of the unpaired p50s (coefficient of variation), of the unpaired INT8 speed-ups
(pairing run k of each), and of the paired ratios, plus how the first separate run compares with
the rest. Targets on a quiet host: the five paired ratios within 10% of each other (max/min <= 1.10)
and the first separate run no slower than the median of the others by more than 10%.

    .venv/bin/python benchmarks/repeatability.py [--model resnet8] [--subset 200] [--repeats 5] [--rounds R]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore")


def spread(values: list[float]) -> str:
    cv = statistics.stdev(values) / statistics.mean(values) * 100 if len(values) > 1 else 0.0
    return f"{', '.join(f'{v:.4g}' for v in values)}  (CV {cv:.1f}%, max/min {max(values) / min(values):.2f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet8")
    parser.add_argument("--subset", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, help="rounds of each paired re-measurement (default: remeasure's)")
    parser.add_argument("--home", help="data directory for the store (default: a temporary database)")
    args = parser.parse_args()

    database = Path(args.home or tempfile.mkdtemp(prefix="inferscope-repeat-")) / "repeat.db"
    os.environ["INFERSCOPE_DB"] = f"sqlite:///{database}"
    from core.api import InferScope, RunRequest

    api = InferScope()
    int8 = ("onnx_export", "ort_static_int8")
    fp32_runs, int8_runs = [], []
    for _ in range(args.repeats):  # alternate, as a user queueing both would
        for steps, runs in (((), fp32_runs), (int8, int8_runs)):
            run = api.execute(api.submit(RunRequest(model=args.model, subset=args.subset, techniques=steps)))
            if run.status != "done":
                print(f"run {run.id} {run.status}: {run.error}")
                return 1
            runs.append(run)
            print(f"separate run {run.id} ({run.recipe_summary}): p50 {run.metrics['latency_p50_ms']:.4f} ms"
                  + ("  [noisy]" if run.noisy else ""), file=sys.stderr)
    fp32_p50 = [r.metrics["latency_p50_ms"] for r in fp32_runs]
    int8_p50 = [r.metrics["latency_p50_ms"] for r in int8_runs]
    unpaired = [f / i for f, i in zip(fp32_p50, int8_p50)]
    paired = []
    for k in range(args.repeats):
        record = api.remeasure([fp32_runs[0].id, int8_runs[0].id], fp32_runs[0].id,
                               {"rounds": args.rounds} if args.rounds else None)
        if record.status != "done":
            print(f"comparison {record.id} {record.status}: {record.error}")
            return 1
        result = record.result(int8_runs[0].id)
        paired.append(result["ratio"])
        print(f"paired {k + 1}: {result['ratio']:.3f}x ({result['ci_low']:.3f}–{result['ci_high']:.3f})"
              + ("  [noisy]" if record.noisy else ""), file=sys.stderr)
    first, rest = fp32_p50[0], statistics.median(fp32_p50[1:])
    print(f"\n{args.model}, subset {args.subset}, {args.repeats} repeats")
    print(f"FP32 p50 of separate runs (ms):   {spread(fp32_p50)}")
    print(f"INT8 p50 of separate runs (ms):   {spread(int8_p50)}")
    print(f"INT8 speed-up, separate runs:     {spread(unpaired)}")
    print(f"INT8 speed-up, paired:            {spread(paired)}")
    print(f"first separate FP32 run vs the median of the others: {first / rest:.2f}x")
    ok = max(paired) / min(paired) <= 1.10 and first / rest <= 1.10
    print("targets (paired max/min <= 1.10, first run <= 1.10x the others): " + ("met" if ok else "NOT met"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
