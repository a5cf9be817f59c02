from datetime import UTC, datetime, timedelta

import pytest

from core.explore import analysis
from core.store import RunRecord

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def run(id, latency, top1, recipe=("fp16",), size=1.0, minute=None, engine="torch-eager"):
    steps = [{"technique": t, "config": {}} for t in recipe]
    finished = T0 + timedelta(minutes=minute if minute is not None else id)
    return RunRecord(id=id, status="done", created_at=T0, started_at=T0, finished_at=finished, stage="done",
                     progress=1.0, model="m", model_source="local", model_options={}, dataset="d",
                     dataset_location=None, subset_size=10, subset_seed=0, subset_split="test", calibration_split=None,
                     recipe=steps, runtime={"batch": 1}, scenario="single-stream", error=None, notes=[], worker_pid=None,
                     worker_host=None, engine=engine, env_fingerprint="e", environment={},
                     metrics={"latency_p50_ms": latency, "top1": top1, "size_mb": size})


BASE = run(1, 10.0, 92.0, recipe=())


def test_hypervolume_of_a_staircase():
    assert analysis.hypervolume([(1, 3), (2, 4)], (4, 0)) == pytest.approx(1 * 3 + 2 * 4)
    assert analysis.hypervolume([(1, 3), (2, 2)], (4, 0)) == pytest.approx(3 * 3)  # dominated point adds nothing
    assert analysis.hypervolume([(5, 3)], (4, 0)) == 0.0


def test_constraints_in_optuna_convention_and_words():
    c = analysis.Constraints(max_drop=1.0, max_latency_ms=5.0, max_size_mb=0.5)
    slow = run(2, 6.0, 90.5, size=0.4)
    assert c.values(slow, BASE) == {"drop": pytest.approx(0.5), "latency": 1.0, "size": pytest.approx(-0.1)}
    assert c.violations(slow, BASE) == ["1.50 points below FP32 (> 1)", "latency_p50_ms 6 ms > 5 ms"]
    assert c.violations(run(3, 2.0, 91.5, size=0.4), BASE) == []
    assert c.violations(slow, None)[0] == "drop not measurable"


def test_front_fastest_and_knee_with_reasons():
    runs = [BASE, run(2, 5.0, 91.9), run(3, 2.0, 91.6), run(4, 1.0, 90.0), run(5, 3.0, 91.0), run(6, 0.5, 80.0)]
    c = analysis.Constraints(max_drop=3.0)
    picks = analysis.recommend(runs, c)
    assert [r.id for r in picks.front] == [4, 3, 2, 1]  # 6 is too inaccurate, 5 is dominated by 3
    assert picks.fastest.run.id == 4
    assert picks.fastest.reason == ("run 4 (fp16) is 10.00x faster than the FP32 baseline, run 1 (eager PyTorch) for "
                                    "2.00 points less top-1; 2.00x faster than run 3 (fp16) for 1.60 points less "
                                    "top-1, the next point of the front")
    assert picks.knee.run.id == 3
    assert picks.knee.reason == ("run 3 (fp16) is 2.50x faster than run 2 (fp16) for 0.30 points less "
                                 "top-1; it gives 1.60 points more top-1 for 2.00x the latency of run 4 (fp16)")


def test_the_fastest_is_also_quoted_against_the_fastest_lossless_configuration_each_run_named_once():
    """Issue 26: 9.25x against eager FP32 read as 9.25x against the same graph in ONNX Runtime; say both."""
    ort_fp32 = run(3, 4.0, 92.0, recipe=("onnx_export",), engine="onnxruntime")
    slower_lossless = run(5, 6.0, 92.0, recipe=("torch_compile",), engine="torch-compiled")
    picks = analysis.recommend([BASE, run(2, 1.0, 91.5), ort_fp32, slower_lossless], analysis.Constraints(max_drop=1.0))
    assert [r.id for r in picks.front] == [2, 3]
    assert picks.fastest.reason == (
        "run 2 (fp16) is 10.00x faster than the FP32 baseline, run 1 (eager PyTorch) for 0.50 points less top-1; "
        "4.00x faster than the fastest lossless configuration, run 3 (onnx_export) in ONNX Runtime for 0.50 points "
        "less top-1")  # run 3 is also the next point of the front: named once


def test_cached_runs_are_never_recommended_and_a_lone_point_is_compared_with_fp32():
    runs = [BASE, run(2, 0.1, 92.0, recipe=("cache",)), run(3, 4.0, 92.0)]
    picks = analysis.recommend(runs, analysis.Constraints(max_drop=1.0))
    assert picks.fastest.run.id == 3 and picks.knee is None
    assert picks.fastest.reason == "run 3 (fp16) is 2.50x faster than the FP32 baseline, run 1 (eager PyTorch) at " \
                                   "the same top-1; the only configuration on the front"


def test_hypervolume_history_grows_in_finishing_order():
    runs = [BASE, run(2, 5.0, 91.9, minute=5), run(3, 2.0, 91.6, minute=3), run(4, 30.0, 60.0, minute=4)]
    history = analysis.hypervolume_history(runs, analysis.Constraints(max_drop=1.0))
    assert [p.trials for p in history] == [1, 2, 3, 4]
    assert [p.seconds for p in history] == [60.0, 180.0, 240.0, 300.0]
    shares = [p.share for p in history]
    assert shares[1] == shares[2] < shares[3] < 1.0  # run 4 (finished third) is infeasible and adds nothing
    assert analysis.hypervolume_history([], analysis.Constraints()) == []


def perplexity_run(id, latency, perplexity, minute):
    made = run(id, latency, 0.0, recipe=() if id == 1 else ("matmul_nbits",), minute=minute)
    return RunRecord(**{**made.__dict__, "metrics": {"latency_p50_ms": latency, "perplexity": perplexity}})


def test_a_perplexity_is_minimized_on_the_front_in_the_hypervolume_and_in_the_constraint():
    from core.wording import drop_limit

    c = analysis.Constraints(max_drop=5.0, accuracy="perplexity")
    base, better, worse, lost = (perplexity_run(1, 10.0, 20.0, 1), perplexity_run(2, 4.0, 20.5, 2),
                                 perplexity_run(3, 5.0, 20.9, 3), perplexity_run(4, 1.0, 30.0, 4))
    runs = [base, better, worse, lost]
    assert c.violations(lost, base) == ["perplexity 50.00% worse than FP32 (> 5%)"]
    assert [r.id for r in analysis.front(runs, c)] == [2, 1], "run 3 is slower and worse than run 2"
    assert analysis.gain(better, c) > analysis.gain(worse, c), "the sampler maximizes a lower perplexity"
    shares = [p.share for p in analysis.hypervolume_history(runs, c)]
    assert 0 < shares[0] < shares[1] == shares[2] == shares[3] <= 1.0
    assert drop_limit(5.0, "perplexity") == "perplexity ≤ 5% above FP32" and drop_limit(1.0) == "drop ≤ 1 points"
