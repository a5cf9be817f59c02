"""Serving scenarios on the default model: what load does to latency, and what batching and caching buy.

Runs on the default Fashion-MNIST model (ONNX Runtime, 2 threads) in a temporary store, using the
user's model cache (the default model is trained once if missing):
  - single-stream vs a low-rate server (the cost of going idle between requests);
  - latency-throughput curves without and with dynamic batching (saturation, rate within p99 bound);
  - concurrent clients against one or two sessions;
  - the response cache at a 50% repeat ratio (hit rate, hit and miss latency, accuracy unchanged).

    .venv/bin/python benchmarks/serving.py [--bound-ms 5]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MODEL = "resnet8"
TIMING = {"warmup": 20, "min_repeats": 200, "min_seconds": 2.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bound-ms", type=float, default=5.0, help="p99 latency bound for the curves")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ.update(INFERSCOPE_DB=f"sqlite:///{home}/runs.db", INFERSCOPE_AUTOSTART_WORKER="0")
        from core import views
        from core.api import InferScope, RunRequest

        api = InferScope()

        def run(scenario: str = "single-stream", *techniques: str) -> dict:
            request = RunRequest(model=MODEL, subset=1000, techniques=("onnx_export", *techniques), threads=2,
                                 timing=TIMING, scenario=scenario)
            record = api.execute(api.submit(request))
            assert record.status == "done", record.error
            return record

        print("| configuration | p50 ms | p99 ms | requests/s | note |")
        print("|---|---|---|---|---|")

        def row(label: str, r, note: str = "") -> None:
            m = r.metrics
            print(f"| {label} | {m['latency_p50_ms']:.3f} | {m['latency_p99_ms']:.3f} | "
                  f"{m['achieved_rate_rps']:.0f} | {note} |")

        single = run()
        row("single-stream", single)
        row("server, 100 requests/s", run("server:rate=100,requests=500"),
            "idle between requests: caches and thread pools go cold")
        row("server, 2000 requests/s", run("server:rate=2000,requests=4000"))
        row("server, 2000 requests/s, max_batch=8", run("server:rate=2000,requests=4000,max_batch=8,"
                                                        "max_queue_delay_ms=1"))
        for clients, sessions in ((1, 1), (2, 1), (4, 1), (4, 2)):
            row(f"concurrent, {clients} client(s), {sessions} session(s)",
                run(f"concurrent:clients={clients},sessions={sessions},requests=4000"))
        cached = run("single-stream", "cache:capacity=256,repeat_ratio=0.5")
        m = cached.metrics
        row("single-stream + cache (50% repeats)", cached,
            f"{m['cache_hit_pct']:.0f}% hits; hit p50 {m['cache_hit_p50_ms']:.3f} ms, miss p50 "
            f"{m['cache_miss_p50_ms']:.3f} ms; top-1 {m['top1']:.2f}% vs {single.metrics['top1']:.2f}%")

        print(f"\n| curve (p99 bound {args.bound_ms:g} ms) | saturation requests/s | highest rate within the bound |")
        print("|---|---|---|")
        for label, scenario in (("server, no batching", "server"),
                                ("server, max_batch=8, 1 ms delay", "server:max_batch=8,max_queue_delay_ms=1")):
            base = run(scenario)
            curve = api.measure_curve(base.id, {"latency_bound_ms": args.bound_ms, "points": 12, "growth": 1.5,
                                                "seconds_per_point": 2.0})
            summary = views.curve_summary(curve.points, args.bound_ms)
            best = f"{summary.best_under_bound.achieved_rate_rps:.0f}" if summary.best_under_bound else "none"
            print(f"| {label} | {summary.saturation.achieved_rate_rps:.0f} | {best} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
