"""The text space: the model's sequence length and padding as axes of their own, the transformer's own steps
(a shallower student, the TorchScript export on which attention fuses, the fusion, quantizing only the FFN), and
an exploration that measures each sequence length against its own FP32 baseline."""
from __future__ import annotations

import pytest

from core.errors import InferScopeError
from core.explore.space import MODEL_PREFIX, default_space, runnable, space_from_text
from core.explore.trials import config_key, run_key
from tests.conftest import FAST_TIMING

YAML = """
techniques:
  export: [none, onnx_export]
  quantize: [none, ort_dynamic_int8]
runtime:
  threads: [1]
  batch: [4]
model:
  max_length: [64, 128]
  padding: [fixed, dynamic]
"""


def test_model_axes_multiply_the_space_and_round_trip():
    space = space_from_text(YAML)
    assert space.model == (("max_length", (64, 128)), ("padding", ("fixed", "dynamic")))
    assert space.size() == 2 * 2 * 2 * 2
    configs = list(space.configurations())
    assert all(c.is_baseline for c in configs[:4]), "one FP32 baseline per sequence length and padding first"
    assert {c.model_options for c in configs[:4]} == {(("max_length", m), ("padding", p))
                                                      for m in (64, 128) for p in ("fixed", "dynamic")}
    some = configs[-1]
    assert some.params()[MODEL_PREFIX + "max_length"] == "128" and space.configuration(some.params()) == some
    assert "max_length 128 · padding dynamic" in some.label()
    assert len({config_key(c) for c in configs}) == space.size()
    assert space_from_text(space.to_yaml()) == space


@pytest.mark.parametrize("text, message", [
    ("model: [max_length]", "maps the model's options"),
    ("model: {max_length: [128, 128]}", "lists a value twice"),
    ("model: {max_length: [{a: 1}]}", "needs a list of plain values"),
])
def test_bad_model_axes_are_refused(text, message):
    with pytest.raises(InferScopeError, match=message):
        space_from_text("techniques: {export: [none, onnx_export]}\n" + text)


def test_the_text_default_space_offers_the_transformer_steps_and_image_models_keep_theirs():
    text = default_space("torch", "text-classification")
    axes = dict(text.axes)
    assert text.model == (("max_length", (128, 256)), ("padding", ("fixed", "dynamic")))
    assert "distill_layers:layers=3" in axes["distill"] and "transformer_optimize" in axes["optimize"]
    assert "onnx_export:exporter=torchscript" in axes["export"]
    assert "ort_dynamic_int8:keep_float=@attention" in axes["quantize"] and "nncf_int8" in axes["quantize"]
    assert all(spec == "none" or spec.startswith("transformer_prune:") for spec in axes["prune"]), axes["prune"]
    image = default_space("torch")
    assert image.model == () and set(dict(image.axes)) == {"prune", "export", "quantize", "engine"}
    assert all(spec == "none" or spec.startswith("structured_prune:") for spec in dict(image.axes)["prune"])
    assert all("@attention" not in spec and "torchscript" not in spec for _, specs in image.axes for spec in specs)
    assert sum(not c.is_baseline for c in runnable(text, "torch").runnable) >= 20


def test_an_exploration_measures_each_sequence_length_against_its_own_baseline(api, tiny_text_model):
    from core.api import ExploreRequest

    space = space_from_text(YAML.replace("[none, ort_dynamic_int8]", "[none]").replace("[fixed, dynamic]", "[fixed]"))
    request = ExploreRequest(model=tiny_text_model, dataset="bbc-news-headlines", subset=24, space=space,
                             options={"budget_runs": 4, "strategy": "exhaustive"}, timing=dict(FAST_TIMING))
    exploration = api.explore(request)
    runs = api.exploration_runs(exploration.id)
    assert exploration.status == "done" and len(runs) == 4, [r.error for r in runs]
    assert sorted((r.model_options["max_length"], bool(r.recipe)) for r in runs) == [
        (64, False), (64, True), (128, False), (128, True)]
    assert len({run_key(r, space.model_axes) for r in runs}) == 4, "every run is matched to its configuration"
    exported = {r.model_options["max_length"]: r for r in runs if r.recipe}
    baselines = {r.model_options["max_length"]: r for r in runs if not r.recipe}
    assert exported[64].environment["inputs"]["padded_length_mean"] == 64
    from core.comparable import comparison_key

    assert comparison_key(exported[64]) == comparison_key(baselines[64]) != comparison_key(baselines[128])


def test_a_model_axis_the_model_does_not_take_is_refused_before_anything_is_queued(api, tiny_text_model):
    from core.api import ExploreRequest

    space = space_from_text("techniques: {export: [none, onnx_export]}\nmodel: {max_length: [100]}")
    with pytest.raises(InferScopeError, match="model axis max_length: .*max length"):
        api.plan_exploration(ExploreRequest(model=tiny_text_model, dataset="bbc-news-headlines", subset=24,
                                            space=space, options={"budget_runs": 2}))
