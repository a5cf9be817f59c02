from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT


def app():
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def test_empty_store_shows_how_to_start():
    at = app().run()
    assert not at.exception
    assert "No runs yet" in at.info[0].value


def test_seeded_store_lists_runs_and_the_front(api):
    fields = dict(model="lenet5", model_source="local", model_options={}, dataset="fashion-mnist",
                  dataset_location=None, subset_size=10, subset_seed=0, subset_split="test", calibration_split=None,
                  recipe=[], runtime={"batch": 1})
    for p50, top1 in [(1.0, 80.0), (2.0, 90.0), (3.0, 85.0)]:
        run_id = api.store.create_run(**fields)
        api.store.mark_running(run_id)
        api.store.finish(run_id, metrics={"latency_p50_ms": p50, "top1": top1}, samples_ms=[p50], notes=[],
                         environment={}, fingerprint="f", engine="torch-eager")
    failed = api.store.create_run(**fields)
    api.store.end(failed, "failed", "boom: fix the thing")
    at = app().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 4 and table["on front"].sum() == 2
    assert "boom: fix the thing" in set(table["error"])
    assert [m.value for m in at.metric] == ["4", "3", "2"]
