"""Integration: real runs of a tiny trained model on a Fashion-MNIST subset, through the api."""
import pytest

from core.errors import DataError, RecipeError
from core.store import ALL_METRICS

LATENCY_AND_SIZE = ("latency_first_ms", "latency_p50_ms", "latency_p90_ms", "latency_p95_ms", "latency_p99_ms",
                    "latency_mean_ms", "latency_std_ms", "throughput_ips", "size_mb", "peak_mem_mb")


def test_int8_run_stores_every_metric(api, run_request):
    from core.bench.percentiles import min_samples
    from core.metrics import added_in

    run_id = api.submit(run_request("onnx_export", "ort_static_int8:calibration_size=64", batch=4,
                                    timing={"warmup": 1, "min_repeats": 5, "min_seconds": 0.0, "tail": "p90"}))
    assert api.run(run_id).status == "queued"
    stages = []
    run = api.execute(run_id, lambda stage, f: stages.append(stage))
    assert run.status == "done", run.error
    serving_only = {"target_rate_rps", "over_bound_pct", "mean_batch_requests", "cache_hit_pct", "cache_hit_p50_ms",
                    "cache_miss_p50_ms",  # server scenario and response cache metrics
                    "tokens_per_s", "tokens_mean", "padding_pct",  # text runs' metrics
                    *added_in(13)}  # text generation's
    count = run.metrics["latency_count"]
    assert min_samples(90) <= count < min_samples(99)  # the tail option timed until p90 was supported
    unsupported = {"latency_p99_ms", "latency_p999_ms", "latency_p99_ci_low_ms", "latency_p99_ci_high_ms"} | (
        {"latency_p95_ms"} if count < min_samples(95) else set())
    where_readable = {"cpu_mhz"}  # many virtual machines hide the CPU frequency
    measured = {k for k, v in run.metrics.items() if v is not None}
    assert set(ALL_METRICS) - serving_only - unsupported - where_readable == measured - where_readable
    assert any("tail latency not reported" in note and "p99 662" in note for note in run.notes)
    assert run.metrics["eval_samples"] == 200
    assert run.metrics["top1_ci_low"] <= run.metrics["top1"] <= run.metrics["top1_ci_high"]
    assert run.metrics["latency_p50_ci_low_ms"] <= run.metrics["latency_p50_ms"] <= run.metrics["latency_p50_ci_high_ms"]
    assert run.metrics["latency_p50_ms"] <= run.metrics["latency_p90_ms"]
    assert run.metrics["other_cpu_pct"] >= 0 and not run.noisy  # the tests' threshold: never noisy
    assert 0.9 < run.metrics["logit_cosine"] <= 1.0 + 1e-9
    assert run.engine == "onnxruntime" and run.env_fingerprint
    assert run.environment["runtime_settings"]["threads"] >= 1 and run.environment["isa"] is not None
    assert run.calibration_split == "train" and run.subset_split == "test"
    assert {"build", "data", "reference", "onnx_export", "ort_static_int8", "evaluate", "time"} <= set(stages)
    assert len(api.samples(run_id)) == run.metrics["latency_count"]


def test_baseline_agrees_with_itself(api, run_request):
    run = api.execute(api.submit(run_request()))
    assert run.status == "done" and run.metrics["agreement"] == 100.0 and run.engine == "torch-eager"
    assert run.recipe_summary == "fp32"


def test_synthetic_data_is_latency_only(api, run_request):
    run = api.execute(api.submit(run_request("onnx_export", dataset="synthetic", subset=16)))
    assert run.status == "done" and run.metrics["top1"] is None and run.metrics["agreement"] is not None


def test_random_weights_store_accuracy_as_not_applicable(api, run_request):
    run = api.execute(api.submit(run_request(model="squeezenet1_1", dataset="synthetic", subset=2,
                                             random_weights=True)))
    assert run.status == "done" and run.metrics["top1"] is None
    assert any("random weights" in n for n in run.notes)


def test_a_technique_that_throws_stores_a_failed_run(api, run_request, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("quantizer exploded")
    monkeypatch.setattr("onnxruntime.quantization.quantize_static", boom)
    run = api.execute(api.submit(run_request("onnx_export", "ort_static_int8:calibration_size=8")))
    assert run.status == "failed" and "RuntimeError: quantizer exploded" in run.error
    assert run.metrics["latency_p50_ms"] is None


def test_a_measurement_with_an_impossible_latency_ends_failed_not_done(api, run_request, monkeypatch):
    from core import engine

    real = engine.latency_metrics
    monkeypatch.setattr(engine, "latency_metrics",
                        lambda result, batch: {**real(result, batch), "latency_p50_ms": -9223372036385.0})
    run = api.execute(api.submit(run_request("onnx_export")))
    assert run.status == "failed" and "measured impossible latencies (latency_p50_ms = -9223372036385.0" in run.error
    assert run.metrics["latency_p50_ms"] is None and api.front() == []


def test_ctrl_c_stores_cancelled(api, run_request, monkeypatch):
    import core.scenarios.runners

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(core.scenarios.runners, "measure", interrupt)
    run_id = api.submit(run_request())
    with pytest.raises(KeyboardInterrupt):
        api.execute(run_id)
    assert api.run(run_id).status == "cancelled"


@pytest.mark.parametrize("overrides, error, message", [
    ({"subset": 0}, DataError, "at least 1"),
    ({"subset": -3}, DataError, "at least 1"),
    ({"subset": 10_001}, DataError, "larger than the 10000"),
    ({"model": "resnet18", "random_weights": False}, DataError, "predicts imagenet-1k classes"),
    ({"techniques": ("ort_static_int8",)}, RecipeError, "add onnx_export before"),
    ({"techniques": ("onnx_export", "ort_static_int8:calibration_size=60001")}, DataError, "calibration size 60001 is larger than the 60000"),
])
def test_bad_requests_fail_before_anything_is_stored(api, run_request, overrides, error, message):
    with pytest.raises(error, match=message):
        api.plan(run_request(**overrides))
    assert api.runs() == []


def test_front_keeps_non_dominated_runs(api, run_request):
    ids = [api.execute(api.submit(run_request(*t))).id for t in [(), ("onnx_export",)]]
    front = api.front()
    assert front and {r.id for r in front} <= set(ids)
    runs = api.runs("done")
    for r in runs:
        if r.id not in {f.id for f in front}:
            assert any(f.metrics["latency_p50_ms"] <= r.metrics["latency_p50_ms"]
                       and f.metrics["top1"] >= r.metrics["top1"] for f in front)


def test_a_run_timed_beside_a_cpu_burner_is_noisy_and_never_recommended(run_request, monkeypatch):
    import subprocess
    import sys

    from core.api import InferScope

    monkeypatch.setenv("INFERSCOPE_NOISY_CPU_PCT", "25")
    api = InferScope()
    run_id = api.submit(run_request(timing={"warmup": 1, "min_repeats": 5, "min_seconds": 1.5}))
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        run = api.execute(run_id)
    finally:
        burner.kill()
        burner.wait()
    assert run.status == "done" and run.noisy and run.metrics["other_cpu_pct"] > 25
    assert any(note.startswith("noisy: while this run timed") for note in run.notes)
    assert api.recommend(max_drop=1.0) is None  # the only candidate was timed on a busy machine
    assert api.recommend(max_drop=1.0, include_noisy=True).run.id == run_id
    assert api.run(run_id).to_json()["noisy"] is True
