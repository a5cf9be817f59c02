from tests.seed import seed_exploration, seed_runs


def test_plan_shows_the_space_and_the_runs_the_budget_allows(app_page, api):
    at = app_page("explore")
    info = at.info[0].value
    assert "configurations" in info and "runnable" in info and "The budget allows about" in info
    at.segmented_control(key="x_unit").set_value("runs").run()
    at.number_input(key="x_image-classification.budget_runs").set_value(5).run()
    assert "about **5** run(s)" in at.info[0].value and "nsga2" in at.info[0].value
    prune = at.multiselect(key="x_axis_prune_image-classification_False")
    assert prune.proto.wrap and prune.proto.select_all == 0, "long step specs wrap instead of being cut off"
    prune.set_value(["none"]).run()
    at.multiselect(key="x_axis_quantize_image-classification_False").set_value(["none", "ort_static_int8"]).run()
    at.number_input(key="x_image-classification.budget_runs").set_value(50).run()
    assert "exhaustive" in at.info[0].value
    at.button(key="x_start").click().run()
    assert not at.exception and "queued" in at.success[0].value
    (record,) = api.explorations()
    assert record.status == "queued" and record.config["budget_runs"] == 50
    assert record.config["space"]["techniques"]["prune"] == ["none"]


def test_bad_yaml_and_bad_threads_are_explained_and_block_the_start(app_page):
    at = app_page("explore")
    at.text_input(key="x_threads").set_value("one, two").run()
    assert "whole numbers" in at.error[0].value
    at.text_input(key="x_threads").set_value("1").run()
    at.toggle(key="x_yaml_on").set_value(True).run()
    at.text_area(key="x_yaml").set_value("techniques: {q: [none, no_such_technique]}").run()
    assert "no_such_technique" in at.error[0].value and at.button(key="x_start").disabled


def test_cancel_and_continue_an_exploration(app_page, api):
    exploration_id = seed_exploration(api.store, 3, status="running")
    at = app_page("explore")
    at.button(key="x_cancel").click().run()
    assert api.exploration(exploration_id).status == "running"  # a running one is asked to stop
    api.store.end("exploration", exploration_id, "cancelled", "stopped")
    at.run()
    at.button(key="x_continue").click().run()
    assert api.exploration(exploration_id).status == "queued" and not at.exception


def test_results_filtered_to_an_exploration_show_recommendations_and_hypervolume(app_page, api):
    seed_runs(api.store, 4, seed=9)  # runs outside the exploration are filtered out
    exploration_id = seed_exploration(api.store, 12)
    at = app_page("explore")
    at.button(key="x_results").click().run()
    assert not at.exception
    assert at.session_state["f_exploration"] == exploration_id
    assert len(at.dataframe[0].value) == 12
    assert any(f"Exploration {exploration_id}" == h.value for h in at.subheader)
    captions = " ".join(c.value for c in at.caption)
    assert "faster than" in captions and "Hypervolume" in captions
    assert at.number_input(key="max_drop").value == 1.0  # the exploration's constraint
    at.switch_page("pages/results.py").run()  # AppTest reruns the page it opened, not the one switched to
    export = [b for b in at.button if b.key and b.key.startswith("x_export_Fastest")]
    export[0].click().run()
    assert not at.exception and at.session_state["export_run"] == int(export[0].key.rsplit("_", 1)[1])


def test_settings_forms_start_at_the_configs_own_defaults(app_page, api):
    """One definition of each setting: the Explore and Run forms show TimingConfig's and ExploreSettings'
    defaults, and a constraint left empty means no constraint."""
    from core.bench.timing import TimingConfig
    from core.explore import ExploreSettings

    at = app_page("explore")
    for name in ("warmup", "min_repeats", "min_seconds", "max_seconds"):
        assert at.number_input(key=f"x_timing.{name}").value == getattr(TimingConfig(), name)
    assert at.number_input(key="x_image-classification.max_drop").value == ExploreSettings().max_drop
    at.number_input(key="x_image-classification.max_drop").set_value(2.5).run()
    at.segmented_control(key="x_unit").set_value("runs").run()
    at.button(key="x_start").click().run()
    (record,) = api.explorations()
    assert record.config["max_drop"] == 2.5 and record.config["max_latency_ms"] is None
    assert record.config["budget_runs"] == 20 and record.config["timing"]["min_seconds"] == TimingConfig().min_seconds
    run_page = app_page("run")
    assert run_page.number_input(key="timing.min_seconds").value == TimingConfig().min_seconds


def test_a_budget_too_small_to_learn_is_said_before_launch(app_page):
    at = app_page("explore")
    at.segmented_control(key="x_unit").set_value("runs").run()
    at.number_input(key="x_image-classification.budget_runs").set_value(4).run()
    warning = " ".join(w.value for w in at.warning)
    assert "too small to learn much: 4 runs: 2 baselines + 2 trials; 9 recommended" in warning
    at.number_input(key="x_image-classification.budget_runs").set_value(9).run()
    assert not [w for w in at.warning if "too small" in w.value]
    assert any(c.value == "Budget: 9 runs: 2 baselines + 7 trials." for c in at.caption)


def test_an_exploration_can_be_addressed_to_a_target(app_page, api, monkeypatch):
    from core import jobs

    started = []
    monkeypatch.setattr(jobs, "ensure_worker", lambda settings: started.append(settings) or True)
    api.store.register_worker("pair", {"cpu": "Xeon", "logical_cores": 16, "gpus": []})
    at = app_page("explore")
    target = at.selectbox(key="x_target")
    assert target.options == ["this machine", "pair"]
    target.set_value("pair").run()
    at.button(key="x_start").click().run()
    (record,) = api.explorations()
    assert record.target == "pair" and record.config["target"] == "pair"
    assert "the workers of pair share its trials" in at.success[0].value
    assert started == []                                           # this machine's worker is not its worker
    assert at.dataframe[-1].value["target"].iloc[0] == "pair"


def test_a_text_model_explores_its_max_length_and_padding_on_a_subset_that_fits(app_page, api):
    at = app_page("explore")
    at.selectbox(key="x_model").set_value("minilm-bbc").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.number_input(key="x_subset_text-classification").value == 400  # within bbc-news' 419
    assert at.multiselect(key="x_model_axis_max_length").value == [128, 256]
    assert at.multiselect(key="x_model_axis_padding").value == ["fixed", "dynamic"]
    quantize = at.multiselect(key="x_axis_quantize_text-classification_False").value
    assert "ort_dynamic_int8:keep_float=@attention" in quantize
    at.multiselect(key="x_model_axis_max_length").set_value([64]).run()
    at.segmented_control(key="x_unit").set_value("runs").run()
    at.number_input(key="x_text-classification.budget_runs").set_value(6).run()
    at.button(key="x_start").click().run()
    assert not at.exception and "queued" in at.success[0].value
    (record,) = api.explorations()
    assert record.config["space"]["model"] == {"max_length": [64], "padding": ["fixed", "dynamic"]}


def test_an_invalid_number_blocks_the_start_and_is_said_beside_its_field(app_page):
    at = app_page("explore")
    at.segmented_control(key="x_unit").set_value("runs").run()
    at.number_input(key="x_image-classification.budget_runs").set_value(3).run()
    assert "about **3** run(s)" in at.info[0].value and not at.button(key="x_start").disabled
    at.number_input(key="x_image-classification.budget_runs").set_value(0).run()
    assert at.number_input(key="x_image-classification.budget_runs").value == 0, "the widget keeps what was typed"
    assert "must be at least 1; got 0" in [e.value for e in at.error]
    assert any("Budget (runs) must be at least 1 (got 0)" in e.value for e in at.error)
    assert not at.info and at.button(key="x_start").disabled, "no plan is shown for a value that is not there"


def test_threads_speak_the_forms_words_not_pythons(app_page):
    at = app_page("explore")
    at.text_input(key="x_threads").set_value("0, abc").run()
    assert "Threads takes whole numbers separated by commas, or all; not '0, abc'" in [e.value for e in at.error]
    assert not any("invalid literal" in e.value for e in at.error) and at.button(key="x_start").disabled


def test_a_language_model_is_explored_for_inter_token_latency_within_a_share_of_its_perplexity(app_page, api):
    at = app_page("explore")
    at.selectbox(key="x_model").set_value("gpt2-bbc").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.selectbox(key="x_text-generation.latency_metric").value == "itl_p50_ms"
    assert at.number_input(key="x_text-generation.max_drop").value == 5.0
    compress = at.multiselect(key="x_axis_compress_text-generation_False").value
    assert "nncf_weight_compression" in compress
    assert not [m for m in at.multiselect if m.key and "_axis_prune_" in m.key], "a language model is not pruned"
    at.segmented_control(key="x_unit").set_value("runs").run()
    at.number_input(key="x_text-generation.budget_runs").set_value(4).run()
    assert "**18** runnable" in at.info[0].value
    assert "weight-only INT4 in ONNX Runtime and in OpenVINO" in at.warning[0].value
    at.button(key="x_start").click().run()
    assert not at.exception and "queued" in at.success[0].value
    (record,) = api.explorations()
    assert (record.config["start"], record.config["latency_metric"], record.config["max_drop"]) == (
        "lm", "itl_p50_ms", 5.0)
