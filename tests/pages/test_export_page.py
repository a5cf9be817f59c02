import re
from pathlib import Path

from tests.seed import seed_runs


def test_nothing_to_export(app_page):
    assert "No finished runs" in app_page("export").info[0].value


def test_export_flow_recommends_builds_verifies_and_offers_download(app_page, api, run_request):
    base = api.execute(api.submit(run_request()))
    fast = api.execute(api.submit(run_request("onnx_export")))
    assert base.status == fast.status == "done"
    at = app_page("export")
    assert "Recommended: run" in at.success[0].value
    at.button(key="build").click().run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert any(label.startswith("top-1 of the file") for label in labels), labels
    download = at.get("download_button")[0]
    assert download.proto.label == "Download ONNX"
    exported = Path(at.session_state["exported"]["path"])
    assert exported.is_file() and exported.parent.name == "exports"

    exported.unlink()  # deleted before download: a clear message, no crash
    at.run()
    assert "was removed after it was built" in at.error[0].value


def test_a_run_without_an_onnx_form_is_marked_before_the_button_and_its_alternative_queued(app_page, api,
                                                                                          run_request):
    from tests.seed import seed_recipe_run

    run_id = seed_recipe_run(api, run_request, ("bf16",))
    at = app_page("export")
    at.selectbox(key="export_choice_None").set_value(run_id).run()
    assert f"run {run_id} cannot be exported: bf16" in at.warning[0].value
    assert at.button(key="build").disabled
    assert "1 of 1" not in at.expander[0].label and "0 of 1" in at.expander[0].label
    at.button(key="queue_alternative").click().run()
    assert not at.exception
    assert at.success[-1].value.startswith(f"Queued run #{run_id + 1} (onnx_export → fp16)")
    assert [s["technique"] for s in api.run(run_id + 1).recipe] == ["onnx_export", "fp16"]


def test_a_runtime_choice_is_named_as_not_carried_before_the_build(app_page, api, run_request):
    from tests.seed import seed_recipe_run

    run_id = seed_recipe_run(api, run_request, ("torch_compile",))
    at = app_page("export")
    at.selectbox(key="export_choice_None").set_value(run_id).run()
    assert not at.button(key="build").disabled and not at.warning
    assert any("torch_compile is a PyTorch runtime choice" in i.value for i in at.info)


def test_noisy_runs_are_left_out_of_the_recommendation_unless_included(app_page, api):
    from tests.seed import seed_comparison

    ids = seed_runs(api.store, 8, models=("resnet8",), noisy=tuple(range(1, 8)))
    at = app_page("export")
    # only the FP32 baseline was timed on a quiet machine: it is all there is to recommend
    assert at.success[0].value.startswith(f"Recommended: run {ids[0]} (fp32) is the only configuration measured")
    at.checkbox(key="rec_noisy").check().run()
    recommended = at.success[0].value
    assert recommended.startswith("Recommended: run ") and not recommended.startswith(f"Recommended: run {ids[0]} ")
    run_id = int(recommended.split("run ")[1].split(" ")[0])
    assert at.selectbox[-1].label == "Run to export" and at.selectbox[-1].value == run_id  # follows the recommendation
    assert "was timed while other processes kept the machine busy" in at.warning[0].value
    seed_comparison(api.store, [ids[0], run_id], ids[0], {run_id: 4.0})
    at.run()
    assert re.search(rf"; paired: run {run_id} is (3\.9\d|4\.0\d)x faster \(.+, paired\) than run {ids[0]}",
                     at.success[0].value)


def test_when_every_run_is_noisy_nothing_is_preselected_and_the_box_is_pointed_at(app_page, api):
    ids = seed_runs(api.store, 4, models=("resnet8",), noisy=tuple(range(4)))
    at = app_page("export")
    assert not at.success
    assert "none is picked for you: 4 of the 4 finished runs were timed on a busy machine — tick **Include noisy " \
           "runs**" in at.info[0].value
    picker = at.selectbox(key="export_choice_None")
    assert picker.value is None
    assert not [b for b in at.button if b.key == "build"], "no run, no build button"
    picker.set_value(ids[-1]).run()
    assert not at.button(key="build").disabled
