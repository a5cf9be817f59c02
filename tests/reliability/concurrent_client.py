"""A process that shares one store with others: `python -m tests.reliability.concurrent_client URL ROLE TAG N`.

Role `writer`: submit N runs, then claim queued runs (anyone's) and finish them until none waits;
prints {"submitted": N, "finished": [ids]}. Role `reader`: until the file STOP exists, list runs and
check that every done run is whole (metrics and samples); prints {"reads": n, "half_written": [ids]}.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from core.store import RunSpec, RunStore

FIELDS = dict(model="lenet5", model_source="local", dataset="fashion-mnist", dataset_location=None,
              subset_size=10, subset_seed=0, subset_split="test", calibration_split=None,
              recipe=[{"technique": "onnx_export", "config": {}}], runtime={"batch": 1})
METRICS = {"latency_p50_ms": 1.0, "latency_p99_ms": 2.0, "top1": 90.0, "size_mb": 0.3}


def writer(store: RunStore, tag: str, count: int) -> dict:
    for i in range(count):
        store.create_run(RunSpec(model_options={"writer": tag, "i": i}, **FIELDS))
    finished = []
    while (run_id := store.claim("run")) is not None:
        store.finish(run_id, metrics=METRICS, samples_ms=[1.0] * 20, notes=[], environment={"writer": tag},
                     fingerprint="concurrency", engine="none")
        finished.append(run_id)
    return {"submitted": count, "finished": finished}


def reader(store: RunStore, stop: Path) -> dict:
    reads, half = 0, set()
    while not stop.exists():
        for run in store.list_runs("done"):
            if run.metrics["latency_p50_ms"] is None or run.env_fingerprint is None or not store.samples(run.id):
                half.add(run.id)
        reads += 1
        time.sleep(0.01)
    return {"reads": reads, "half_written": sorted(half)}


if __name__ == "__main__":
    url, role, tag, arg = sys.argv[1:5]
    store = RunStore(url)
    result = writer(store, tag, int(arg)) if role == "writer" else reader(store, Path(arg))
    print(json.dumps(result))
