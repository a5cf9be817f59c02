import pytest

from tests.seed import seed_runs


def test_needs_two_runs(app_page):
    assert "at least two finished runs" in app_page("compare").info[0].value


def test_side_by_side_with_deltas_diff_and_distributions(app_page, api):
    ids = seed_runs(api.store, 4)
    at = app_page("compare")
    metrics = at.dataframe[0].value
    assert f"Δ {ids[-1]}" in metrics.columns and "latency_p50_ms" in metrics.index
    diff = at.dataframe[1].value
    assert len(diff) >= 1
    for _, row in diff.iterrows():  # only fields whose values differ are listed
        assert len(set(row.values)) > 1
    assert at.get("plotly_chart")
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
    caption = [c.value for c in at.caption if c.value.startswith("Curve ")][0]
    assert "saturation at 392 requests/s" in caption and "keep p99 under 5 ms" in caption
    assert len(at.get("plotly_chart")) == 2
    at.number_input(key=f"curve_{ids[-1]}.latency_bound_ms").set_value(0.5).run()
    assert "no measured rate keeps p99 under 0.5 ms" in [c.value for c in at.caption if c.value.startswith("Curve ")][0]


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
    at.selectbox(key="reference").set_value(ids[0]).run()
    assert "Timed while other processes kept the machine busy" in at.warning[0].value
    assert any("No paired re-measurement" in c.value for c in at.caption)
    at.button(key="remeasure").click().run()
    (queued,) = api.comparisons()
    assert queued.status == "queued" and set(queued.run_ids) == {ids[0], ids[2]} and queued.reference_id == ids[0]
    api.store.request_comparison_cancel(queued.id)  # seeded runs cannot be rebuilt; show a finished one instead
    seed_comparison(api.store, [ids[0], ids[2]], ids[0], {ids[2]: 3.0})
    at.run()
    (rows,) = [d.value for d in at.dataframe if "verdict" in d.value.columns]
    verdicts = dict(zip(rows["run"], rows["verdict"]))
    assert verdicts[ids[0]] == f"run {ids[0]} is the reference"
    speed = float(verdicts[ids[2]].split(" is ")[1].split("x faster (")[0])
    assert speed == pytest.approx(3.0, rel=0.02) and verdicts[ids[2]].endswith(f"paired) than run {ids[0]}")
    assert jobs.run_worker(load_settings(), api.store) == 0  # the cancelled one is not run
