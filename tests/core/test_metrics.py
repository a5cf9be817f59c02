"""The metric catalogue is the one place a metric is named: the store, the front and the tables follow it."""
from core.metrics import (
    CATALOGUE,
    LATENCY_METRICS,
    OBJECTIVES,
    SUMMARY_METRICS,
    Direction,
    added_in,
)
from core.store.schema import V3_METRICS, RunRow


def test_every_catalogue_metric_is_a_store_column_of_its_type():
    columns = RunRow.__table__.columns
    for name, metric in CATALOGUE.items():
        assert name in columns, name
        assert columns[name].type.python_type is (int if metric.integer else float), name
    assert set(V3_METRICS) == set(added_in(3)) and "latency_p999_ms" in V3_METRICS


def test_objectives_have_directions_and_intervals_name_real_metrics():
    assert OBJECTIVES["latency_p50_ms"].direction is Direction.MIN and OBJECTIVES["top1"].direction is Direction.MAX
    assert all(OBJECTIVES[name].unit == "ms" for name in LATENCY_METRICS)
    for metric in CATALOGUE.values():
        if metric.interval:
            assert all(bound in CATALOGUE for bound in metric.interval)
    assert set(SUMMARY_METRICS) <= set(CATALOGUE)


def test_a_missing_value_formats_as_a_blank():
    assert CATALOGUE["top1"].format(None) == "" and CATALOGUE["top1"].format(91.234) == "91.23"
