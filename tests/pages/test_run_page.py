import re

from core import jobs
from core.settings import load_settings


def choose_tiny_model(at):
    at.multiselect(key="models_local").set_value(["lenet5"]).run()
    at.text_input(key="model_local.epochs").set_value("1").run()
    at.text_input(key="model_local.train_limit").set_value("1024").run()
    at.number_input(key="subset_image-classification").set_value(100).run()
    at.number_input(key="timing.min_repeats").set_value(5).run()
    at.number_input(key="timing.min_seconds").set_value(0.0).run()


def test_defaults_render_with_model_details(app_page):
    at = app_page()
    assert at.title[0].value == "Run"
    details = at.dataframe[0].value
    assert list(details["name"]) == ["resnet8"] and details["params"].iloc[0] > 10_000
    assert "1 run" in at.info[0].value


def test_impossible_recipe_is_explained_and_blocks_submit(app_page):
    at = app_page()
    at.multiselect(key="techniques_image-classification").set_value(["ort_static_int8"]).run()
    assert "add onnx_export before ort_static_int8" in at.error[0].value
    assert at.button(key="submit").disabled


def test_bad_option_value_is_explained(app_page):
    at = app_page()
    at.text_input(key="batch").set_value("1, two").run()
    assert "whole numbers" in at.error[0].value


def test_grid_counts_runs_and_adds_the_baseline(app_page):
    at = app_page()
    at.multiselect(key="techniques_image-classification").set_value(["onnx_export", "ort_static_int8"]).run()
    at.multiselect(key="ort_static_int8.calibration_method").set_value(["MinMax", "Entropy"]).run()
    at.text_input(key="batch").set_value("1, 8").run()
    assert "5 run(s)" in at.info[0].value and "1 FP32 baseline" in at.info[0].value


def test_submit_flow_queues_then_the_worker_finishes(app_page, api):
    at = app_page()
    choose_tiny_model(at)
    at.multiselect(key="techniques_image-classification").set_value(["onnx_export"]).run()
    at.button(key="submit").click().run()
    assert "Queued runs" in at.success[0].value
    queued = api.queue()
    assert [r.recipe_summary for r in queued] == ["fp32", "onnx_export"]
    assert all(r.status == "queued" for r in queued)
    assert jobs.run_worker(load_settings(), api.store) == 2
    assert [r.status for r in api.runs()] == ["done", "done"]


def test_cancel_a_queued_run_from_the_page(app_page, api):
    at = app_page()
    choose_tiny_model(at)
    at.button(key="submit").click().run()
    (run,) = api.queue()
    at.run()
    at.button(key=f"cancel_{run.id}").click().run()
    assert api.run(run.id).status == "cancelled"


def test_every_technique_gets_a_generated_form(app_page):
    from core.catalogue import techniques

    at = app_page()
    offered = {o.split(" — ")[0] for o in at.multiselect(key="techniques_image-classification").options}
    assert offered == {t["name"] for t in techniques("image-classification")}
    assert {"onnx_export", "ort_static_int8", "openvino"} <= offered and "lm_onnx_export" not in offered
    at.multiselect(key="techniques_image-classification").set_value(["structured_prune", "onnx_export"]).run()
    assert at.text_input(key="structured_prune.ratio").value == "0.3"
    assert at.multiselect(key="structured_prune.importance").options == ["l1", "l2", "lamp", "random"]
    assert "1 FP32 baseline" in at.info[0].value
    # an impossible recipe, every form shown
    at.multiselect(key="techniques_image-classification").set_value(sorted(offered)).run()
    assert not at.exception and at.multiselect(key="openvino.cpu_pinning").value == [None]


def test_pruning_without_recovery_is_cautioned_and_recovery_epochs_show_only_with_a_recovery(app_page):
    at = app_page()
    at.multiselect(key="techniques_image-classification").set_value(["structured_prune"]).run()
    keys = {t.key for t in at.text_input}
    assert "structured_prune.ratio" in keys and "structured_prune.recovery_epochs" not in keys
    assert any("structured_prune without recovery: pruning alone usually costs most of the accuracy" in w.value
               for w in at.warning) and not at.button(key="submit").disabled
    at.multiselect(key="structured_prune.recovery").set_value(["finetune"]).run()
    assert "structured_prune.recovery_epochs" in {t.key for t in at.text_input}
    assert not any("without recovery" in w.value for w in at.warning)


def test_an_optional_choice_can_stay_unset_or_form_a_grid_with_values(app_page, api):
    at = app_page()
    choose_tiny_model(at)
    at.multiselect(key="techniques_image-classification").set_value(["onnx_export", "openvino"]).run()
    pinning = at.multiselect(key="openvino.cpu_pinning")
    assert pinning.options[0] == "OpenVINO's default" and pinning.value == [None]
    pinning.set_value([None, False]).run()
    assert not at.exception and "3 run(s)" in at.info[0].value  # the two, and the FP32 baseline
    at.button(key="submit").click().run()
    configs = [r.recipe[1]["config"] for r in api.queue() if r.recipe]
    assert sorted(str(c.get("cpu_pinning")) for c in configs) == ["False", "None"]


def test_scenario_form_is_generated_and_its_options_form_a_grid(app_page, api):
    from core.scenarios import SCENARIOS

    at = app_page()
    assert [o.split(" — ")[0] for o in at.selectbox(key="scenario_image-classification").options] == SCENARIOS.names()
    choose_tiny_model(at)
    at.selectbox(key="scenario_image-classification").set_value("server").run()
    assert "latency budget" in " ".join(c.value for c in at.caption)
    at.text_input(key="scenario_server.rate").set_value("50, 100").run()
    at.text_input(key="scenario_server.requests").set_value("20").run()
    assert "2 run(s)" in at.info[0].value
    at.button(key="submit").click().run()
    queued = api.queue()
    assert [(r.scenario, r.scenario_config["rate"]) for r in queued] == [("server", 50.0), ("server", 100.0)]
    at.text_input(key="scenario_server.max_batch").set_value("0").run()
    assert "server max batch must be at least 1; got 0" in at.error[0].value


def test_uploaded_models_are_listed_newest_first_with_their_upload_time(app_page, api, tmp_path):
    from tests.helpers import TinyClassifier, export_onnx

    for name in ("first", "second"):  # two different models (the same bytes are kept once)
        data = export_onnx(tmp_path / f"{name}.onnx", TinyClassifier(), (1, 3, 16, 16), {"x": {0: "n"}}).read_bytes()
        api.save_upload(f"{name}.onnx", data)
    at = app_page()
    at.segmented_control(key="source_image-classification").set_value("onnx").run()
    picker = at.multiselect(key="onnx_models")
    assert picker.label == "Uploaded models (newest first)"
    stamp = r" · uploaded \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"
    assert re.fullmatch("second\\.onnx" + stamp, picker.options[0]), picker.options
    assert re.fullmatch("first\\.onnx" + stamp, picker.options[1]), picker.options


def test_a_valid_upload_is_selected_for_the_grid(app_page, tmp_path):
    from tests.helpers import TinyClassifier, export_onnx

    data = export_onnx(tmp_path / "mine.onnx", TinyClassifier(), (1, 3, 16, 16), {"x": {0: "n"}}).read_bytes()
    at = app_page()
    at.segmented_control(key="source_image-classification").set_value("onnx").run()
    at.file_uploader[0].set_value(("mine.onnx", data, "application/octet-stream")).run()
    assert "mine.onnx is a valid classifier, selected below" in at.success[0].value
    (chosen,) = at.multiselect(key="onnx_models").value
    assert chosen.endswith(".onnx") and "grid is empty" not in " ".join(e.value for e in at.error)


def test_clicking_the_chosen_task_or_source_again_keeps_it(app_page):
    at = app_page()
    at.segmented_control(key="task").set_value("text-classification").run()
    at.segmented_control(key="task").set_value(None).run()  # what a second click on the chosen option sends
    assert at.segmented_control(key="task").value == "text-classification"
    at.segmented_control(key="source_text-classification").set_value(None).run()
    assert at.segmented_control(key="source_text-classification").value is not None
    assert at.multiselect(key="models_fine-tuned").options and not at.exception


def test_the_steps_picker_has_no_select_all_and_local_models_no_published_figure(app_page):
    at = app_page()
    assert at.multiselect(key="techniques_image-classification").proto.select_all == 0
    assert "reference_top1" not in at.dataframe[0].value.columns  # resnet8 is trained here: there is no such figure


def test_the_last_run_of_a_grid_keeps_its_label_in_the_queue(app_page, api):
    at = app_page()
    at.multiselect(key="techniques_image-classification").set_value(["onnx_export"]).run()
    at.text_input(key="threads").set_value("1, 2").run()
    at.button(key="submit").click().run()
    for run_id in (1, 2):  # the baseline and threads 1 finish; threads 2 is left alone in the queue
        api.store.start("run", run_id)
        api.store.finish(run_id, metrics={"latency_p50_ms": 1.0}, samples_ms=[1.0], notes=[], environment={},
                         fingerprint="f", engine="onnxruntime")
    at.run()
    assert [m.value for m in at.markdown if m.value.startswith("**#")] == ["**#3** · resnet8 · onnx_export · threads 2"]
    (latest,) = [c.value for c in at.caption if c.value.startswith("Latest finished")]
    assert latest == ("Latest finished, newest first: #2 resnet8 · onnx_export · threads 1: done · "
                      "#1 resnet8 · fp32: done")


def test_distillation_options_show_only_with_a_teacher_and_defaults_are_not_stored(app_page, api):
    at = app_page()
    keys = {t.key for t in at.text_input}
    assert "model_local.teacher" in keys and "model_local.temperature" not in keys and "model_local.alpha" not in keys
    at.button(key="submit").click().run()
    assert api.queue()[0].model_options == {}  # nothing chosen, nothing stored: no "resnet8:seed=0,..."
    at.text_input(key="model_local.teacher").set_value("resnet8").run()
    keys = {t.key for t in at.text_input}
    assert {"model_local.temperature", "model_local.alpha"} <= keys


def test_a_bad_number_is_said_in_the_form_words_and_the_message_follows_the_value(app_page):
    at = app_page()
    at.text_input(key="threads").set_value("0").run()
    assert at.error[0].value == "Threads must be at least 1; got 0"
    at.text_input(key="threads").set_value("").run()
    at.number_input(key="subset_image-classification").set_value(100000).run()
    assert "100000" in at.error[0].value
    for bad in (0, -5):
        at.number_input(key="subset_image-classification").set_value(bad).run()
        assert at.error[0].value == f"Subset size must be at least 1; got {bad}"  # not the stale 100000 message
        assert at.button(key="submit").disabled


def test_a_timing_value_out_of_bounds_or_against_another_blocks_the_queue(app_page):
    at = app_page()
    at.number_input(key="timing.max_seconds").set_value(-1.0).run()
    assert at.number_input(key="timing.max_seconds").value == -1.0, "the widget keeps what was typed"
    assert "must be at least 0.1; got -1" in [e.value for e in at.error]
    assert any(e.value == "Timed seconds at most must be at least 0.1 (got -1)" for e in at.error)
    assert at.button(key="submit").disabled
    at.number_input(key="timing.max_seconds").set_value(60.0).run()
    at.number_input(key="timing.min_seconds").set_value(100.0).run()
    assert any("timed seconds at least (100) is above timed seconds at most (60)" in e.value for e in at.error)
    assert at.button(key="submit").disabled


def test_queue_labels_tell_grid_runs_apart(app_page, api):
    at = app_page()
    at.multiselect(key="techniques_image-classification").set_value(["onnx_export"]).run()
    at.text_input(key="threads").set_value("1, 2").run()
    at.button(key="submit").click().run()
    assert at.success[0].value.startswith("Queued runs #1, #2, #3.")
    rows = [m.value for m in at.markdown if m.value.startswith("**#")]
    assert rows == ["**#1** · resnet8 · fp32", "**#2** · resnet8 · onnx_export · threads 1",
                    "**#3** · resnet8 · onnx_export · threads 2"]


def test_registered_targets_are_listed_and_are_a_grid_axis(app_page, api):
    api.store.register_worker("edge", {"cpu": "ARM Cortex-A78", "logical_cores": 8, "memory_gb": 16.0, "gpus": []})
    api.store.register_worker("server", {"cpu": "Xeon", "logical_cores": 64, "memory_gb": 256.0,
                                         "gpus": ["NVIDIA H200"]})
    at = app_page("run")
    listed = next(d.value for d in at.dataframe if "hardware" in d.value.columns and "workers" in d.value.columns)
    assert list(listed["target"]) == ["edge", "server"] and set(listed["status"]) == {"live"}
    assert listed["hardware"].iloc[1] == "Xeon · 64 cores · 256 GB · NVIDIA H200"
    picker = at.multiselect(key="targets")
    assert picker.options == ["this machine", "edge", "server"] and picker.value == [None]
    picker.set_value(["edge", "server"]).run()
    assert "**2 run(s)**" in at.info[0].value                      # the baseline on each machine
    at.button(key="submit").click().run()
    assert sorted(r.target for r in api.runs()) == ["edge", "server"]
    assert "of each target" in at.success[0].value


def test_without_targets_the_page_says_how_to_add_one(app_page):
    at = app_page("run")
    assert at.multiselect(key="targets").disabled
    assert any("python -m core worker --target NAME" in c.value for c in at.caption)


def test_the_task_comes_first_and_filters_models_and_datasets(app_page):
    at = app_page()
    assert at.segmented_control(key="task").value == "image-classification"
    at.segmented_control(key="task").set_value("text-classification").run()
    assert not at.exception
    assert at.segmented_control(key="source_text-classification").value == "fine-tuned"
    assert list(at.dataframe[0].value["name"]) == ["minilm-bbc"]
    datasets = at.selectbox(key="dataset_text-classification").options
    assert any(o.startswith("bbc-news —") for o in datasets) and not any("fashion" in o for o in datasets)
    assert "huggingface" in at.segmented_control(key="source_text-classification").options
    assert "onnx" not in at.segmented_control(key="source_text-classification").options
    assert "1 run" in at.info[0].value
