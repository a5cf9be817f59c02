import json
import math

import pytest

from tests.seed import seed_runs


def figure_layout(at, axis_title_part: str) -> dict:
    """The layout of the plotly chart whose x axis title contains `axis_title_part`."""
    for chart in at.get("plotly_chart"):
        layout = json.loads(chart.proto.spec)["layout"]
        if axis_title_part in json.dumps(layout.get("xaxis", {}).get("title", "")):
            return layout
    raise AssertionError(f"no chart with an x axis titled like {axis_title_part!r}")


def test_distributions_spanning_more_than_10x_get_a_log_axis_and_fp32_is_the_reference(app_page, api):
    ids = seed_runs(api.store, 4, models=("resnet8",))  # an FP32 baseline and variants 2-9x faster
    at = app_page("compare")
    at.multiselect(key="compare_runs").set_value([ids[2], ids[0]]).run()
    assert at.selectbox(key=f"reference_{ids[2]}_{ids[0]}").value == ids[0]  # the FP32 baseline, picked second
    samples = api.samples(ids[0]) + api.samples(ids[2])
    wide = max(samples) / min(samples) > 10
    assert (figure_layout(at, "latency per call")["xaxis"].get("type") == "log") == wide  # on by default if > 10x
    at.toggle(key=f"dist_log_{wide}").set_value(True).run()
    for kind in ("ECDF", "Histogram"):
        at.segmented_control(key="dist_kind").set_value(kind).run()
        layout = figure_layout(at, "latency per call")
        low, high = layout["xaxis"]["range"]
        assert layout["xaxis"]["type"] == "log" and not at.exception
        assert low <= math.log10(min(samples)) and high >= math.log10(max(samples))
        ticks = [float(t) for t in layout["xaxis"]["ticktext"]]
        assert ticks == sorted(ticks) and all(low <= math.log10(t) <= high for t in ticks)


def test_needs_two_runs(app_page):
    assert "at least two finished runs" in app_page("compare").info[0].value


def test_side_by_side_with_deltas_diff_and_distributions(app_page, api):
    ids = seed_runs(api.store, 4)
    at = app_page("compare")
    metrics = at.dataframe[0].value
    (against,) = [c for c in metrics.columns if c.startswith(f"{ids[-1]} vs ")]
    assert metrics["metric"].iloc[0] == "top-1 (%)" and "latency p50 (ms)" in set(metrics["metric"])
    assert metrics[against].str.contains(r"x (faster|slower)").any() and metrics[against].str.endswith("points").any()
    diff = at.dataframe[1].value
    assert len(diff) >= 1
    for _, row in diff.iterrows():  # only fields whose values differ are listed
        assert len(set(row.values)) > 1
    assert at.get("plotly_chart")
    assert any(b.proto.label.startswith("Download a report (HTML") for b in at.get("download_button"))
    at.segmented_control(key="dist_kind").set_value("Histogram").run()
    assert not at.exception
    at.checkbox(key="only_diff").uncheck().run()
    assert len(at.dataframe[1].value) > len(diff)


def test_curve_is_plotted_with_saturation_and_the_rate_within_the_bound(app_page, api):
    from tests.seed import seed_curve

    ids = seed_runs(api.store, 3)
    seed_curve(api.store, ids[-1], capacity=400.0, bound_ms=5.0)
    at = app_page("compare")
    at.selectbox(key="curve_run").set_value(ids[-1]).run()
    caption = next(c.value for c in at.caption if c.value.startswith("Curve "))
    assert "saturation at 392 requests/s" in caption and "keep p99 under 5 ms" in caption
    assert len(at.get("plotly_chart")) == 2
    curve = api.curves(ids[-1])[-1]
    layout = figure_layout(at, "achieved throughput")
    plotted = [getattr(p, f) for p in curve.points for f in ("latency_p50_ms", "latency_p90_ms", "latency_p99_ms")]
    low, high = layout["yaxis"]["range"]  # log10 units, from the data and the bound: never 1e-3 to 1e53
    assert layout["yaxis"]["type"] == "log"
    assert low <= math.log10(min(plotted)) and high >= math.log10(max(plotted)) and high - low < 4
    ticks = [float(t) for t in layout["yaxis"]["ticktext"]]
    assert ticks == sorted(ticks) and len(ticks) >= 2
    (label,) = [a for a in layout["annotations"] if a["text"] == "bound 5 ms"]
    assert label["y"] == pytest.approx(math.log10(5.0)), "the bound's label sits on its line, in log10 units"
    at.number_input(key=f"curve_{ids[-1]}.latency_bound_ms").set_value(0.5).run()
    caption = next(c.value for c in at.caption if c.value.startswith("Curve "))
    assert "no measured rate keeps p99 under 0.5 ms" in caption


def test_measure_curve_queues_a_sweep_for_the_worker(app_page, api):
    ids = seed_runs(api.store, 2)
    at = app_page("compare")
    at.selectbox(key="curve_run").set_value(ids[0]).run()
    assert "No curve for run" in at.info[0].value
    at.button(key="measure_curve").click().run()
    (curve,) = api.curves(ids[0])
    assert curve.status == "queued" and curve.config["latency_bound_ms"] == 50.0
    assert at.button(key="measure_curve").disabled


def test_paired_re_measurement_is_queued_and_shown(app_page, api):
    from core import jobs
    from core.settings import load_settings
    from tests.seed import seed_comparison

    ids = seed_runs(api.store, 4, noisy=(2,))
    at = app_page("compare")
    at.multiselect(key="compare_runs").set_value([ids[0], ids[2]]).run()
    assert at.selectbox(key=f"reference_{ids[0]}_{ids[2]}").value == ids[0]
    assert "Timed while other processes kept the machine busy" in at.warning[0].value
    assert any("No paired re-measurement" in c.value for c in at.caption)
    at.button(key="remeasure").click().run()
    (queued,) = api.comparisons()
    assert queued.status == "queued" and set(queued.run_ids) == {ids[0], ids[2]} and queued.reference_id == ids[0]
    api.store.cancel("comparison", queued.id)  # seeded runs cannot be rebuilt; show a finished one instead
    seed_comparison(api.store, [ids[0], ids[2]], ids[0], {ids[2]: 3.0})
    at.run()
    (rows,) = [d.value for d in at.dataframe if "verdict" in d.value.columns]
    verdicts = dict(zip(rows["run"], rows["verdict"]))
    assert verdicts[ids[0]] == f"run {ids[0]} is the reference"
    speed = float(verdicts[ids[2]].split(" is ")[1].split("x faster (")[0])
    assert speed == pytest.approx(3.0, rel=0.02) and verdicts[ids[2]].endswith(f"paired) than run {ids[0]}")
    assert jobs.run_worker(load_settings(), api.store) == 0  # the cancelled one is not run


def test_settings_diff_highlights_only_the_cells_that_differ_from_the_reference(app_page, api):
    import re

    ids = seed_runs(api.store, 6, models=("resnet8",))
    at = app_page("compare")
    at.multiselect(key="compare_runs").set_value(ids[:3]).run()
    reference = at.selectbox(key=f"reference_{'_'.join(map(str, ids[:3]))}").value
    element = at.dataframe[1]
    diff = element.value
    from core.techniques import TECHNIQUES

    words = [f.removeprefix(next((t for t in TECHNIQUES.names() if f.startswith(t)), "")) for f in diff.index]
    assert not [w for w in words if "." in w or "_" in w]  # readable names, not environment.load.x_y
    expected = {(r, c) for r, (_, row) in enumerate(diff.iterrows()) for c, value in enumerate(row)
                if value != row[f"run {reference}"]}
    styles = element.proto.arrow_data.styler.styles
    highlighted = {(int(r), int(c)) for r, c in re.findall(r"row(\d+)_col(\d+)", styles)}
    assert expected and highlighted == expected


def test_flips_show_the_changed_images_and_the_confusion_change(app_page, api):
    ids = seed_runs(api.store, 4, models=("resnet8",))  # the variants differ from FP32 on 20 of 1000 images
    at = app_page("compare")
    at.multiselect(key="compare_runs").set_value([ids[0], ids[2]]).run()
    ours, theirs = api.store.predictions(ids[2]), api.store.predictions(ids[0])
    changed = sum(a != b for a, b in zip(ours, theirs))
    assert changed > 0
    caption = next(c.value for c in at.caption if "changed their top-1" in c.value)
    assert caption.startswith(f"{changed} of 1000 images changed their top-1 between run {ids[0]} and run {ids[2]}")
    images = at.get("image")
    assert images and len(images[0].proto.imgs) == min(24, changed)
    assert "true " in images[0].proto.imgs[0].caption and " → " in images[0].proto.imgs[0].caption
    heatmap = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "confusion matrix" in c.proto.spec)
    assert heatmap["data"][0]["type"] == "heatmap" and heatmap["data"][0]["zmid"] == 0
    assert sum(map(sum, heatmap["data"][0]["z"])) == 0  # as many images leave a cell as enter another


def test_one_configuration_across_targets_side_by_side(app_page, api):
    from tests.seed import seed_runs

    edge = seed_runs(api.store, 4, target="edge", fingerprint="env-edge")
    seed_runs(api.store, 4, target="server", fingerprint="env-server")  # the same seed: the same configurations
    at = app_page()
    at.session_state["selected_runs"] = [edge[0], edge[2]]
    at.switch_page("pages/compare.py").run()
    at.selectbox(key=f"reference_{edge[0]}_{edge[2]}").set_value(edge[2]).run()
    table = next(d.value for d in at.dataframe if "speed-up vs its FP32" in d.value.columns)
    assert list(table["target"]) == ["edge", "server"]
    reference = api.run(edge[2])
    assert table["speed-up vs its FP32"].iloc[0] == pytest.approx(1.0 / reference.metrics["latency_p50_ms"])
