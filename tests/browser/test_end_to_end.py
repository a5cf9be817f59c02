"""The README's promise, in a real browser: run the default model with and without INT8, see both points
and the front on Results, compare them, export the verified ONNX file and download it."""
import json
import re
import time

import onnx
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


def open_expander(page, title: str, label_inside: str) -> None:
    """Expand `title` until `label_inside` shows: a click that lands during a rerun can be lost."""
    inside = page.get_by_label(label_inside, exact=True)
    for _ in range(5):
        if inside.is_visible():
            return
        page.get_by_text(title, exact=True).click()
        try:
            inside.wait_for(state="visible", timeout=10_000)
        except PlaywrightTimeout:
            continue
    inside.wait_for(state="visible")


def fill(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")


def pick(page, label: str, option: str) -> None:
    """Type into a multiselect to filter it, take the first match, and wait until it shows as chosen."""
    widget = page.get_by_test_id("stMultiSelect").filter(has=page.get_by_text(label, exact=True))
    box = widget.locator("input")
    box.click()
    box.fill(option)
    page.get_by_role("option", name=re.compile("^" + re.escape(option))).first.click()
    page.keyboard.press("Escape")
    widget.get_by_text(re.compile("^" + re.escape(option) + " —")).wait_for()


def open_task(page, app_server: str, task: str, source: str) -> None:
    """The Run page on `task`, once its own model sources (`source` among them) show."""
    page.goto(app_server)
    page.get_by_role("heading", name="Run").wait_for()
    page.get_by_text(task, exact=True).click()
    page.get_by_text(source, exact=True).wait_for()


def wait_until_done(api, count: int, timeout: float = 600) -> list:
    deadline = time.time() + timeout
    while time.time() < deadline:
        runs = api.runs()
        if len(runs) >= count and all(r.status not in ("queued", "running") for r in runs):
            return runs
        time.sleep(1)
    pytest.fail(f"runs did not finish: {[(r.id, r.status, r.stage) for r in api.runs()]}")


def test_run_results_export_in_the_browser(app_server, browser_page, tmp_path):
    from core.api import InferScope

    page = browser_page
    page.goto(app_server + "results")  # a deep link on a fresh server still gets the app's navigation
    page.get_by_role("heading", name="Results").wait_for()
    page.get_by_text("No runs yet").wait_for()
    assert page.get_by_test_id("stSidebarNav").get_by_role("link", name="Compare").is_visible()
    assert not page.get_by_test_id("stSidebarNav").get_by_role("link", name="common").count()
    page.goto(app_server)
    page.get_by_role("heading", name="Run").wait_for()
    open_expander(page, "Model options", "epochs")
    fill(page, "epochs", "1")
    fill(page, "train limit", "4096")
    fill(page, "Subset size", "300")
    pick(page, "Steps (applied in this order)", "onnx_export")
    pick(page, "Steps (applied in this order)", "ort_static_int8")
    open_expander(page, "Timing protocol", "Timed seconds at least")
    fill(page, "Timed seconds at least", "0.5")
    page.get_by_text(re.compile(r"expands to 2 run\(s\), including 1 FP32 baseline")).wait_for()
    page.get_by_role("button", name="Queue runs").click()
    page.get_by_text("Queued runs #1, #2.").wait_for()
    page.get_by_text(re.compile(r"#2 · resnet8 · onnx_export → ort_static_int8")).wait_for()  # the queue, labelled
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "run.png"), full_page=True)

    runs = wait_until_done(InferScope(), 2)
    assert [r.status for r in runs] == ["done", "done"], [r.error for r in runs]
    page.get_by_text("Latest finished").wait_for()

    page.get_by_role("link", name="Results").click()
    page.get_by_role("heading", name="Results").wait_for()
    chart = page.locator(".js-plotly-plot").first
    chart.wait_for()
    assert chart.locator(".scatterlayer .point").count() >= 2
    page.get_by_text("2 runs plotted").wait_for()
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "results.png"), full_page=True)

    page.get_by_role("link", name="Compare").click()
    page.get_by_role("heading", name="Latency distribution").wait_for()
    page.locator(".js-plotly-plot").first.wait_for()  # the ECDF of both runs' raw samples
    assert page.locator(".js-plotly-plot .scatterlayer .trace").count() == 2
    reference = page.get_by_role("combobox", name="Reference run")  # the FP32 baseline, whatever the order
    expect(reference).to_have_value(re.compile(r"^1: resnet8 · fp32"))
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "compare.png"), full_page=True)

    page.get_by_role("link", name="Export").click()
    page.get_by_role("heading", name="Export").wait_for()
    page.get_by_role("button", name="Build verified ONNX").click()
    download_button = page.get_by_role("button", name="Download ONNX")
    download_button.wait_for(timeout=300_000)
    page.get_by_text("of the file (onnxruntime)").first.wait_for()
    with page.expect_download() as info:
        download_button.click()
    target = tmp_path / "downloaded.onnx"
    info.value.save_as(target)
    page.screenshot(path=str(ARTIFACTS / "export.png"), full_page=True)
    model = onnx.load(str(target))
    onnx.checker.check_model(model)
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["inferscope.metrics"])["top1"] > 10


TINY_SPACE = """techniques:
  export: [none, onnx_export]
  quantize: [none, ort_dynamic_int8]
runtime:
  threads: [null]
"""


def test_explore_then_export_the_recommendation_in_the_browser(app_server, browser_page):
    from core.api import InferScope

    page = browser_page
    page.goto(app_server + "explore")
    page.get_by_role("heading", name="Explore").wait_for()
    fill(page, "Model options", "epochs=1,train_limit=2048")
    fill(page, "Subset size", "200")
    page.get_by_text("runs", exact=True).click()  # budget in runs
    fill(page, "Budget (runs)", "3")
    page.get_by_text("Edit the space as YAML").click()
    editor = page.get_by_label("Space (YAML)", exact=True)
    editor.fill(TINY_SPACE)
    editor.press("Control+Enter")
    page.get_by_text(re.compile(r"4\s+configurations, 3\s+runnable")).wait_for()
    page.get_by_role("button", name="Start exploring").click()
    page.get_by_text(re.compile(r"Exploration 1 is queued")).wait_for()

    api = InferScope()
    deadline = time.time() + 300
    while api.exploration(1).status in ("queued", "running") and time.time() < deadline:
        time.sleep(1)
    record = api.exploration(1)
    assert record.status == "done" and record.trials == 3, (record.status, record.error)
    # the page's list follows the exploration to its end without a reload
    page.get_by_text(re.compile(r"^Exploration 1: done · 3 trial\(s\)")).wait_for(timeout=25_000)

    page.get_by_role("button", name="Show in Results").click()
    page.get_by_role("heading", name="Exploration 1").wait_for()
    page.get_by_text("Fastest within the constraints").wait_for()
    page.get_by_text(re.compile(r"faster than")).first.wait_for()
    page.locator(".js-plotly-plot").nth(1).wait_for()  # the hypervolume over time and the front
    export = page.get_by_role("button", name=re.compile(r"^Export run \d+$")).first
    run_id = int(export.inner_text().rsplit(" ", 1)[1])
    export.click()
    page.get_by_role("heading", name="Export").wait_for()
    chosen = page.get_by_role("combobox", name="Run to export")  # the recommended run is preselected
    expect(chosen).to_have_value(re.compile(rf"^{run_id}: resnet8"))


def test_a_text_classifier_from_run_to_a_verified_zip_in_the_browser(app_server, browser_page, tmp_path):
    import zipfile

    from core.api import InferScope

    page = browser_page
    open_task(page, app_server, "text classification", "huggingface")
    open_expander(page, "Model options", "epochs")
    fill(page, "epochs", "1")
    fill(page, "train limit", "32")  # a brief fine-tune: the test is about the journey, not the accuracy
    fill(page, "Subset size", "24")
    pick(page, "Steps (applied in this order)", "onnx_export")
    pick(page, "Steps (applied in this order)", "ort_dynamic_int8")
    open_expander(page, "Timing protocol", "Timed seconds at least")
    fill(page, "Timed seconds at least", "0.5")
    page.get_by_text(re.compile(r"expands to 2 run\(s\), including 1 FP32 baseline")).wait_for()
    page.get_by_role("button", name="Queue runs").click()
    page.get_by_text("Queued runs #1, #2.").wait_for()

    runs = wait_until_done(InferScope(), 2)
    assert [r.status for r in runs] == ["done", "done"], [r.error for r in runs]
    assert runs[1].metrics["tokens_per_s"] > 0 and runs[1].environment["inputs"]["max_length"] == 128

    page.get_by_role("link", name="Results").click()
    page.get_by_role("heading", name="Results").wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    page.get_by_text("2 runs plotted").wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "text-results.png"), full_page=True)

    page.get_by_role("link", name="Export").click()
    page.get_by_role("heading", name="Export").wait_for()
    page.get_by_role("button", name="Build verified ONNX").click()
    download_button = page.get_by_role("button", name="Download ONNX and tokenizer (zip)")
    download_button.wait_for(timeout=300_000)
    with page.expect_download() as info:
        download_button.click()
    target = tmp_path / "downloaded.zip"
    info.value.save_as(target)
    names = set(zipfile.ZipFile(target).namelist())
    assert {"model.onnx", "inferscope.json", "tokenizer.json"} <= names


def queue(page, steps: tuple[str, ...], expands: str, queued: str) -> None:
    """Pick `steps` (clearing the last submission's), check what the grid expands to, queue it."""
    widget = page.get_by_test_id("stMultiSelect").filter(has=page.get_by_text("Steps (applied in this order)",
                                                                             exact=True))
    clear = widget.get_by_role("button", name=re.compile("Clear all", re.I))
    if clear.count():
        clear.first.click()
    for step in steps:
        pick(page, "Steps (applied in this order)", step)
    page.get_by_text(re.compile(expands)).wait_for()
    page.get_by_role("button", name="Queue runs").click()
    page.get_by_text(queued).wait_for()


def test_a_language_model_from_run_to_a_verified_zip_in_the_browser(app_server, browser_page, tmp_path):
    """Issue 30's journey: the offline language model, its KV cache on and off, ONNX Runtime INT4 and OpenVINO INT4,
    the front of inter-token latency against perplexity, the continuations against FP32, the recommended export."""
    import zipfile

    from core.api import InferScope

    page = browser_page
    open_task(page, app_server, "text generation", "trained-lm")
    open_expander(page, "Model options", "epochs")
    fill(page, "epochs", "1")
    fill(page, "train limit", "16")  # a brief training: the test is about the journey, not the perplexity
    fill(page, "prompt tokens", "8")
    fill(page, "new tokens", "4")
    fill(page, "prompts", "2")
    fill(page, "Subset size", "10")
    open_expander(page, "Timing protocol", "Timed seconds at least")
    fill(page, "Timed seconds at least", "0.2")
    queue(page, ("no_kv_cache",), r"expands to 2 run\(s\), including 1 FP32 baseline", "Queued runs #1, #2.")
    queue(page, ("lm_onnx_export", "matmul_nbits"), r"expands to 1 run\(s\)\.", "Queued run #3.")
    queue(page, ("lm_onnx_export", "lm_openvino", "nncf_weight_compression"), r"expands to 1 run\(s\)\.",
          "Queued run #4.")

    runs = wait_until_done(InferScope(), 4)
    assert [r.status for r in runs] == ["done"] * 4, [r.error for r in runs]
    assert [r.engine for r in runs] == ["torch-eager", "torch-eager", "onnxruntime", "openvino"]
    assert runs[0].metrics["generated_tokens_per_s"] > runs[1].metrics["generated_tokens_per_s"]  # the cache buys

    page.get_by_role("link", name="Results").click()
    page.get_by_role("heading", name="Results").wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    page.get_by_text("4 runs plotted").wait_for()
    expect(page.get_by_role("combobox", name="y (quality)")).to_have_value("perplexity")
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "generation-results.png"), full_page=True)

    page.get_by_role("link", name="Compare").click()
    page.get_by_role("heading", name="Compare").wait_for()
    page.get_by_role("heading", name="Continuations against FP32").wait_for()
    page.get_by_text(re.compile(r"^Prompt 1")).first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "generation-compare.png"), full_page=True)

    page.get_by_role("link", name="Export").click()
    page.get_by_role("heading", name="Export").wait_for()
    page.get_by_text(re.compile(r"^Recommended: run \d+")).wait_for()
    page.get_by_role("button", name="Build verified ONNX").click()
    download_button = page.get_by_role("button", name="Download ONNX and tokenizer (zip)")
    download_button.wait_for(timeout=300_000)
    page.get_by_text(re.compile(r"greedy tokens of 2 prompts generated as the run did")).wait_for()
    with page.expect_download() as info:
        download_button.click()
    target = tmp_path / "downloaded.zip"
    info.value.save_as(target)
    assert {"model.onnx", "tokenizer.json", "generation_config.json"} <= set(zipfile.ZipFile(target).namelist())
