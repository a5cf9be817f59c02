import pytest

from core import views
from core.api import GridRequest, expand_grid
from core.store import RunStore
from tests.seed import seed_runs


@pytest.fixture
def runs(tmp_path):
    store = RunStore(f"sqlite:///{tmp_path / 'v.db'}")
    seed_runs(store, 40)
    return store.list_runs()


def test_plot_points_front_matches_brute_force(runs):
    points = views.plot_points(runs, "latency_p50_ms", "top1")
    for p in points:
        dominated = any(q.x <= p.x and q.y >= p.y and (q.x < p.x or q.y > p.y) for q in points)
        assert p.on_front == (not dominated)


def test_constraints_exclude_points_from_the_front(runs):
    points = views.plot_points(runs, "latency_p50_ms", "top1", max_drop=0.5, max_latency_ms=0.3)
    for p in points:
        if p.drop is not None and p.drop > 0.5 or p.x > 0.3:
            assert not p.allowed and not p.on_front and p.reason
    allowed = [p for p in points if p.allowed]
    for p in allowed:
        dominated = any(q.x <= p.x and q.y >= p.y and (q.x < p.x or q.y > p.y) for q in allowed)
        assert p.on_front == (not dominated)


def test_recommendation_is_the_fastest_within_the_drop(runs):
    rec = views.recommend(runs, max_drop=1.0)
    base = views.baselines(runs)
    eligible = [r for r in runs if (d := views.accuracy_drop(r, base.get(views.comparison_key(r)))) is not None
                and d <= 1.0]
    assert rec.run.metrics["latency_p50_ms"] == min(r.metrics["latency_p50_ms"] for r in eligible)
    assert "faster than FP32 run" in rec.reason
    assert views.recommend(runs, max_drop=1.0, model="nope") is None


def test_grid_expansion():
    grid = GridRequest(models=("resnet8", "lenet5"), model_options={"seed": ("0", "1")},
                       techniques=(("onnx_export", {}), ("ort_static_int8", {"per_channel": (True, False),
                                                                             "calibration_size": ("",)})),
                       batch=(1, 8))
    requests = expand_grid(grid)
    assert len(requests) == 2 * 2 * 2 * 2
    assert requests[0].model == "resnet8:seed=0"
    assert requests[0].techniques == ("onnx_export", "ort_static_int8:per_channel=True")


def test_settings_diff_and_deltas(runs):
    a, b = runs[0], runs[5]
    rows = views.settings_diff([a, b])
    assert all(set(r) >= {"field", f"run {a.id}", f"run {b.id}", "differs"} for r in rows)
    deltas = {r["metric"]: r for r in views.metric_deltas([a, b], a)}
    assert deltas["latency_p50_ms"][f"Δ {b.id}"] == pytest.approx(b.metrics["latency_p50_ms"] - a.metrics["latency_p50_ms"])
    xs, ys = views.ecdf([3.0, 1.0, 2.0])
    assert xs == [1.0, 2.0, 3.0] and ys[-1] == 1.0


def test_per_image_latency_divides_by_batch(runs):
    per_call = {p.run.id: p for p in views.plot_points(runs, "latency_p50_ms", "top1")}
    per_image = views.plot_points(runs, "latency_p50_ms", "top1", per_image=True)
    for p in per_image:
        assert p.x == pytest.approx(per_call[p.run.id].x / p.run.runtime["batch"])
    assert any(p.run.runtime["batch"] > 1 for p in per_image)
