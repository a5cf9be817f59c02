import pytest

from core import comparable, metric_rows, views, wording
from core.planning import GridRequest, StepSpec, expand_grid
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


def test_recommendation_is_the_fastest_within_the_drop(tmp_path):
    """One recommend for Export and Explore: the fastest done run within the drop, said against FP32."""
    from core.api import InferScope
    from core.settings import load_settings

    api = InferScope(load_settings())
    seed_runs(api.store, 40)
    runs = api.runs("done")
    rec = api.recommend(max_drop=1.0)
    base = comparable.baselines(runs)
    eligible = [r for r in runs if (d := wording.accuracy_drop(r, base.get(comparable.comparison_key(r)))) is not None
                and d <= 1.0 and comparable.recommendable(r)]
    assert rec.run.metrics["latency_p50_ms"] == min(r.metrics["latency_p50_ms"] for r in eligible)
    assert f"run {rec.run.id} (" in rec.reason and "faster than the FP32 baseline, run" in rec.reason
    assert api.recommend(max_drop=1.0, model="nope") is None


def test_a_trade_states_a_loss_as_a_loss(runs):
    from tests.core.explore.test_analysis import run

    fast, slow = run(2, 1.0, 91.8), run(1, 104.0, 92.0)
    assert wording.trade(fast, slow, "latency_p50_ms", "top1", views.describe_run(slow)) == \
        "104.00x faster than run 1 (fp16) for 0.20 points less top-1"
    assert wording.trade(slow, fast, "latency_p50_ms", "top1", views.describe_run(fast)) == \
        "104.00x slower than run 2 (fp16) and 0.20 points more top-1"


def test_grid_expansion():
    grid = GridRequest(models=("resnet8", "lenet5"), model_options={"seed": ("0", "1")},
                       techniques=(("onnx_export", {}), ("ort_static_int8", {"per_channel": (True, False),
                                                                             "calibration_size": ("",)})),
                       batch=(1, 8))
    requests = expand_grid(grid)
    assert len(requests) == 2 * 2 * 2 * 2
    assert requests[0].model == "resnet8" and requests[0].model_options == {"seed": "0"}
    assert requests[0].techniques == (StepSpec("onnx_export"), StepSpec("ort_static_int8", {"per_channel": True}))


def test_settings_diff_and_deltas(runs):
    a, b = runs[0], runs[5]
    rows = views.settings_diff([a, b])
    assert all(set(r) >= {"field", f"run {a.id}", f"run {b.id}", "differs"} for r in rows)
    rows = metric_rows.metric_deltas([a, b], a)
    deltas = {r["metric"]: r for r in rows}
    assert [r["metric"] for r in rows[:3]] == ["top-1 (%)", "agreement with FP32 (%)", "latency p50 (ms)"]
    speedup = a.metrics["latency_p50_ms"] / b.metrics["latency_p50_ms"]
    assert deltas["latency p50 (ms)"][f"{b.id} vs {a.id}"] == f"{speedup:.1f}x faster"
    top1 = deltas["top-1 (%)"]
    low, high = a.metrics["top1_ci_low"], a.metrics["top1_ci_high"]
    assert top1[f"run {a.id}"] == f"{a.metrics['top1']:.2f} ({low:.1f}–{high:.1f})"
    assert top1[f"{b.id} vs {a.id}"] == f"{b.metrics['top1'] - a.metrics['top1']:+.2f} points"
    assert not any("CI" in name or "interval" in name for name in deltas), "intervals are folded into their metric"
    assert "target rate (requests/s)" not in deltas, "a metric no run has is no row"
    xs, ys = views.ecdf([3.0, 1.0, 2.0])
    assert xs == [1.0, 2.0, 3.0] and ys[-1] == 1.0


def test_per_image_latency_divides_by_batch(runs):
    per_call = {p.run.id: p for p in views.plot_points(runs, "latency_p50_ms", "top1")}
    per_image = views.plot_points(runs, "latency_p50_ms", "top1", per_image=True)
    for p in per_image:
        assert p.x == pytest.approx(per_call[p.run.id].x / p.run.runtime["batch"])
    assert any(p.run.runtime["batch"] > 1 for p in per_image)


def test_cached_runs_are_never_recommended(tmp_path):
    store = RunStore(f"sqlite:///{tmp_path / 'c.db'}")
    seed_runs(store, 6)
    fastest = min(store.list_runs()[2:], key=lambda r: r.metrics["latency_p50_ms"])
    with store._session() as session:  # give the fastest variant a response cache
        from core.store.schema import RunRow
        session.get(RunRow, fastest.id).recipe = [*fastest.recipe, {"technique": "cache", "config": {}}]
    from core.explore.analysis import Constraints, recommend

    rec = recommend(store.list_runs(), Constraints(max_drop=5.0)).fastest
    assert rec is not None and rec.run.id != fastest.id


def test_curve_summary_marks_saturation_and_the_best_rate_within_the_bound(tmp_path):
    from core.store import CurvePoint

    point = lambda target, achieved, p99, dropped=0: CurvePoint(target, achieved, 1, 2, p99, p99, 0, 10, dropped)  # noqa: E731
    points = [point(100, 99, 1.0), point(200, 197, 2.0), point(400, 390, 6.0), point(800, 405, 90.0, dropped=5),
              point(1600, 400, 300.0, dropped=50)]
    summary = views.curve_summary(points, bound_ms=5.0)
    assert summary.saturation.target_rate_rps == 400 and summary.best_under_bound.target_rate_rps == 200
    assert views.curve_summary(points, bound_ms=0.5).best_under_bound is None


def test_log_axis_rules():

    assert views.needs_log_axis([[0.1, 0.12], [1.5, 2.0]]) and not views.needs_log_axis([[1.0, 2.0], [3.0]])
    low, high = views.log_range([0.1, None, float("nan"), 0.0, -1.0, 100.0])
    assert low < -1 < 2 < high < 2.5 and views.log_range([None, float("inf")]) is None
    wide = views.log_axis([0.11, 0.3, 2.5, None])
    assert wide["tickvals"] == pytest.approx([0.1, 0.2, 0.5, 1, 2])
    assert wide["ticktext"] == ["0.1", "0.2", "0.5", "1", "2"]
    narrow = views.log_axis([3.0, 7.0])  # under half a decade: every digit, still read left to right
    assert narrow["ticktext"] == ["3", "4", "5", "6", "7"] and views.log_axis([None, -1.0]) == {}
    assert views.log_axis([0.13, 0.27])["ticktext"] == ["0.13", "0.15", "0.19", "0.23", "0.28"]  # within one digit
    assert views.log_axis([0.01, 500.0])["ticktext"] == ["0.01", "0.1", "1", "10", "100", "1000"]  # decades only
    for axis in (wide, narrow):
        assert axis["tickvals"] == sorted(axis["tickvals"]) and axis["type"] == "log"
    bars = views.log_histogram([[0.1, 0.2], [10.0]], bins=4)
    assert len(bars.centers) == len(bars.widths) == 4 and [sum(c) for c in bars.counts] == [2, 1]
    assert bars.centers[0] - bars.widths[0] < 0.1 < bars.centers[0]  # the first bin starts at the smallest sample


def grid_runs(runs):
    """Three INT8 runs that differ only in threads, one at another batch, as a threads grid stores them."""
    from dataclasses import replace

    int8 = next(r for r in runs if r.recipe_summary == "onnx_export → ort_static_int8" and r.model == "resnet8")
    return [replace(int8, id=100 + k, runtime={**int8.runtime, "threads": threads, "batch": batch})
            for k, (threads, batch) in enumerate([(None, 1), (1, 1), (2, 1), (2, 8)])]


def test_labels_show_what_tells_grid_runs_apart(runs):
    labels = views.run_labels(grid_runs(runs))
    assert labels == {100: "resnet8 · onnx_export → ort_static_int8 · threads all cores, batch 1",
                      101: "resnet8 · onnx_export → ort_static_int8 · threads 1, batch 1",
                      102: "resnet8 · onnx_export → ort_static_int8 · threads 2, batch 1",
                      103: "resnet8 · onnx_export → ort_static_int8 · threads 2, batch 8"}
    assert len(set(labels.values())) == len(labels)
    alone = grid_runs(runs)[:1]
    assert views.run_labels(alone) == {100: "resnet8 · onnx_export → ort_static_int8"}  # nothing to tell apart


def test_any_configuration_field_that_varies_can_colour_the_chart(runs):
    fields = views.varying_fields(grid_runs(runs))
    assert fields == ["threads", "batch"]
    config = views.configuration(grid_runs(runs)[1])
    assert config["ort_static_int8 per channel"] == "True" and config["threads"] == "1"
    assert config["device"] == "cpu" and config["scenario"] == "single-stream"


def test_settings_diff_reads_in_words(runs):
    rows = {r["field"]: r for r in views.settings_diff(grid_runs(runs)[:2])}
    assert rows["threads"]["differs"] and rows["threads"]["run 100"] == "all cores"
    assert not rows["batch"]["differs"]
    assert "environment › runtime settings › threads" in rows
    assert not any("." in field or "_" in field.split(" ")[0] for field in rows if field.startswith("environment"))


def test_flips_count_fixed_and_broken_and_the_confusion_change():
    reference, run, labels = [0, 1, 2, 1], [0, 2, 2, 1], [0, 2, 1, 1]
    found = views.flips(reference, run, labels, 3)
    assert found.indices == [1] and found.truth == [2] and (found.reference, found.run) == ([1], [2])
    assert (found.fixed, found.broken) == (1, 0)
    assert found.confusion_change[2] == [0, -1, 1]  # true 2: one more predicted 2, one fewer predicted 1
    assert views.flips([1, 1], [1, 1], None, 3).indices == []


def test_image_and_text_runs_never_share_a_chart_and_each_task_splits_by_target():
    from types import SimpleNamespace

    from core.views import facets

    runs = [SimpleNamespace(id=1, dataset="fashion-mnist", target=None), SimpleNamespace(id=2, dataset="bbc-news",
                                                                                           target=None),
            SimpleNamespace(id=3, dataset="bbc-news-headlines", target="edge")]
    charts = facets(runs, by_target=True)
    assert [(title, [r.id for r in rs]) for title, rs in charts] == [
        ("Image classification · Target: this machine", [1]), ("Text classification · Target: this machine", [2]),
        ("Text classification · Target: edge", [3])]
    assert [(title, [r.id for r in rs]) for title, rs in facets(runs, by_target=False)] == [
        ("Image classification", [1]), ("Text classification", [2, 3])]
    assert facets(runs[:1], by_target=True) == [(None, runs[:1])]
