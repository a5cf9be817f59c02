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
