import json
import math

import pytest

from tests.seed import seed_runs


def test_empty_store_points_to_run(app_page):
    at = app_page("results")
    assert "No runs yet" in at.info[0].value


def test_front_table_and_csv(app_page, api):
    seed_runs(api.store, 12)
    at = app_page("results")
    chart = at.get("plotly_chart")[0]
    assert chart.proto.spec  # a figure was sent
    table = at.dataframe[0].value
    assert len(table) == 12 and table["front"].sum() >= 1
    assert "runs plotted" in at.caption[0].value
    csv_button = at.get("download_button")[0]
    assert csv_button.proto.label.startswith("Download all runs")


def test_constraints_grey_points_and_shrink_the_front(app_page, api):
    seed_runs(api.store, 30)
    at = app_page("results")
    before = at.dataframe[0].value["front"].sum()
    at.number_input(key="max_drop").set_value(0.1).run()
    after = at.dataframe[0].value
    assert after["front"].sum() <= before
    caption = at.caption[0].value
    assert "Grey points break a constraint" in caption


def test_other_environment_is_flagged(app_page, api):
    seed_runs(api.store, 6)
    seed_runs(api.store, 2, fingerprint="env-b", seed=3)
    at = app_page("results")
    assert any("not comparable" in w.value for w in at.warning)


def test_filter_tag_and_delete_with_confirmation(app_page, api):
    ids = seed_runs(api.store, 5)
    at = app_page("results")
    at.multiselect(key="f_model").set_value(["lenet5"]).run()
    assert set(at.dataframe[0].value["model"]) == {"lenet5"}
    at.multiselect(key="f_model").set_value([]).run()
    at.multiselect(key="selected_").set_value([ids[1], ids[2]]).run()
    at.text_input(key="tags_text").set_value("keep, int8").run()
    at.button(key="set_tags").click().run()
    assert api.run(ids[1]).tags == ["int8", "keep"]
    at.multiselect(key="selected_").set_value([ids[2]]).run()
    at.button(key="delete").click().run()
    assert "cannot be undone" in at.warning[0].value and len(api.runs()) == 5
    at.button(key="confirm_yes").click().run()
    assert [r.id for r in api.runs()] == [i for i in ids if i != ids[2]]


def test_per_image_latency_option(app_page, api):
    seed_runs(api.store, 8)
    at = app_page("results")
    at.checkbox(key="per_image").check().run()
    assert not at.exception and "runs plotted" in at.caption[0].value


def test_scenario_filter_and_colour(app_page, api):
    seed_runs(api.store, 8, scenarios=("single-stream", "server"))
    at = app_page("results")
    assert "different scenarios" in at.warning[0].value
    assert set(at.dataframe[0].value["scenario"]) == {"single-stream", "server"}
    at.selectbox(key="colour_by").set_value("scenario").run()
    assert not at.exception
    at.multiselect(key="f_scenario").set_value(["server"]).run()
    assert set(at.dataframe[0].value["scenario"]) == {"server"}
    assert not [w for w in at.warning if "different scenarios" in w.value]


def test_runs_timed_on_a_busy_machine_are_outlined_and_said(app_page, api):
    ids = seed_runs(api.store, 6, noisy=(3,))
    at = app_page("results")
    warning = " ".join(w.value for w in at.warning)
    assert f"run {ids[3]} (140% of a core)" in warning and "never recommended unless you include them" in warning
    table = at.dataframe[0].value
    assert table.set_index("id").loc[ids[3], "noisy"] and table["noisy"].sum() == 1
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    lines = {d[0]: d[7] for trace in figure["data"] for d in trace.get("customdata") or []}
    assert "noisy: timed on a busy machine" in lines[ids[3]] and not lines[ids[3]].startswith(("·", " "))
    assert all(not line.startswith(("·", " ")) for line in lines.values())
    at.multiselect(key="selected_").set_value([ids[3]]).run()
    assert at.multiselect(key="selected_").format_func(ids[3]).startswith(f"#{ids[3]} ")

def test_table_puts_key_columns_first_and_blanks_missing_values(app_page, api):
    from tests.seed import seed_queued

    seed_runs(api.store, 6)
    seed_queued(api.store, 1)  # nothing measured yet: blank metric cells
    at = app_page("results")
    element = at.dataframe[0]
    table = element.value
    assert list(table.columns[:7]) == ["id", "configuration", "top-1 %", "p50 ms", "agreement %", "size MB", "p99 ms"]
    assert "cache hits %" not in table.columns  # no shown run has a cache: no empty column
    assert table["top-1 %"].isna().sum() == 1  # the queued run has nothing measured yet...
    assert element.proto.HasField("placeholder") and element.proto.placeholder == ""  # ...and shows blanks there


def test_colour_by_any_field_that_varies_and_labels_that_tell_runs_apart(app_page, api):
    seed_runs(api.store, 16)
    at = app_page("results")
    options = at.selectbox(key="colour_by").options
    assert options[:2] == ["techniques", "configuration (what differs)"] and "batch" in options
    at.selectbox(key="colour_by").set_value("batch").run()
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {t["name"] for t in figure["data"] if t.get("showlegend", True) and t["mode"] == "markers"} <= {"1", "8"}
    assert figure["layout"]["legend"]["title"]["text"] == "batch (symbol = model)"
    labels = at.dataframe[0].value["configuration"]
    assert any(label.endswith("· batch 8") for label in labels) and any(label.endswith("· batch 1") for label in labels)


def test_no_plottable_run_says_why_instead_of_an_empty_chart(app_page, api):
    from tests.seed import seed_queued

    seed_queued(api.store, 2)
    at = app_page("results")
    assert not at.get("plotly_chart")
    assert "None of the 2 shown runs has both a latency p50 (ms) and a top-1 (%) yet: 2 of them are queued" \
        in at.info[0].value
    assert not [c for c in at.caption if "on the front ()" in c.value]


def test_disabled_buttons_say_why(app_page, api):
    seed_runs(api.store, 4)
    at = app_page("results")
    assert at.button(key="go_export").disabled and at.button(key="go_export").help.startswith("select exactly one")
    assert at.button(key="go_compare").help == "select two or more runs to compare"


def test_a_derived_run_gets_an_arrow_from_its_parent(app_page, api):
    ids = seed_runs(api.store, 6, models=("resnet8",))
    with api.store.engine.begin() as conn:  # as a diagnosis's "keep in float" run is stored
        from sqlalchemy import text

        conn.execute(text("UPDATE runs SET parent_run_id = :p WHERE id = :c"), {"p": ids[2], "c": ids[4]})
    at = app_page("results")
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    (arrow,) = [a for a in figure["layout"].get("annotations", []) if a.get("showarrow")]
    parent, child = api.run(ids[2]), api.run(ids[4])
    assert (arrow["ax"], arrow["ay"]) == (parent.metrics["latency_p50_ms"], parent.metrics["top1"])
    assert (arrow["x"], arrow["y"]) == (child.metrics["latency_p50_ms"], child.metrics["top1"])
    at.checkbox(key="log_x").check().run()
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    (arrow,) = [a for a in figure["layout"].get("annotations", []) if a.get("showarrow")]
    assert arrow["x"] == pytest.approx(math.log10(child.metrics["latency_p50_ms"]))  # a log axis takes log10
    # ticks labelled with their full values, in order: never plotly's bare minor digits ("0.1, 2, 3 … 9, 1")
    ticks = figure["layout"]["xaxis"]["ticktext"]
    assert [float(t) for t in ticks] == sorted(float(t) for t in ticks) and len(ticks) >= 2
    assert all(float(t) == pytest.approx(v) for t, v in zip(ticks, figure["layout"]["xaxis"]["tickvals"]))


def test_runs_of_two_targets_get_a_front_each_unless_one_is_asked_for(app_page, api):
    from tests.seed import seed_runs

    seed_runs(api.store, 6, target="edge", fingerprint="env-edge")
    seed_runs(api.store, 6, target="server", fingerprint="env-server", seed=1)
    at = app_page("results")
    charts = at.get("plotly_chart")
    assert len(charts) == 2
    assert [m.value for m in at.markdown if m.value.startswith("**Target:")] == ["**Target: edge**",
                                                                                   "**Target: server**"]
    for chart in charts:                                           # each chart holds one machine's runs only
        figure = json.loads(chart.proto.spec)
        ids = {d[0] for trace in figure["data"] for d in trace.get("customdata") or []}
        assert len({api.run(i).target for i in ids}) == 1
    at.checkbox(key="one_front").check().run()
    assert len(at.get("plotly_chart")) == 1
    at.multiselect(key="f_target").set_value(["edge"]).run()
    assert len(at.get("plotly_chart")) == 1 and not [c for c in at.checkbox if c.key == "one_front"]


def seed_language_model_runs(store, perplexities: dict[str, float]) -> list[int]:
    """Done runs of the offline language model (the first recipe is its FP32 baseline): inter-token p50 and
    perplexity only (clearly fake)."""
    from core.store import RunSpec

    ids = []
    for i, (technique, perplexity) in enumerate(perplexities.items()):
        run_id = store.create_run(RunSpec(
            model="gpt2-bbc", model_source="language-model", model_options={}, dataset="bbc-news-articles",
            dataset_location=None, subset_size=100, subset_seed=0, subset_split="test", calibration_split=None,
            recipe=[{"technique": technique, "config": {}}] if technique != "fp32" else [],
            runtime={"threads": None, "batch": 1, "device": "cpu"}, scenario="single-stream", scenario_config={}))
        store.start("run", run_id)
        store.finish(run_id, metrics={"latency_p50_ms": 64.0 / (i + 1), "itl_p50_ms": 1.0 / (i + 1),
                                      "perplexity": perplexity, "size_mb": 17.0},
                     samples_ms=[64.0 / (i + 1)] * 10, notes=[], environment={}, fingerprint="env-a",
                     engine="torch-eager")
        ids.append(run_id)
    return ids


def test_a_max_drop_reads_as_a_share_of_perplexity_and_says_when_it_has_nothing_to_drop_from(app_page, api):
    fp32, _, worse = seed_language_model_runs(api.store, {"fp32": 100.0, "lm_onnx_export": 100.0,
                                                          "static_cache_compile": 108.0})
    at = app_page("results")
    assert (at.selectbox(key="x").value, at.selectbox(key="y").value) == ("itl_p50_ms", "perplexity")
    assert at.dataframe[0].value.set_index("id").loc[worse, "front"], "the fastest is on the front until a limit"
    at.number_input(key="max_drop").set_value(5.0).run()
    assert "Max drop on this chart: perplexity ≤ 5% above FP32." in [c.value for c in at.caption]
    assert not at.dataframe[0].value.set_index("id").loc[worse, "front"], "8% above FP32's perplexity"
    at.multiselect(key="f_recipe").set_value(["lm_onnx_export", "static_cache_compile"]).run()  # no FP32 shown
    assert any("Not applied to this chart: max drop (no run here has an FP32 baseline's perplexity" in c.value
               for c in at.caption)
    assert fp32 not in set(at.dataframe[0].value["id"])
