import pytest

from core.errors import InferScopeError
from core.explore.space import (
    NONE,
    default_space,
    load_space,
    runnable,
    space_from_text,
)

YAML = """
techniques:
  prune:
    - none
    - structured_prune: {ratio: {from: 0.2, to: 0.6, step: 0.2}, recovery: none}
  export: [none, onnx_export]
  quantize: [none, torch_dynamic_int8, ort_static_int8]
runtime:
  threads: [1, null]
  batch: [1, 8]
"""


def test_yaml_space_expands_ranges_and_lists_in_axis_order(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text(YAML)
    space = load_space(path)
    assert [name for name, _ in space.axes] == ["prune", "export", "quantize"]
    assert space.axes[0][1] == (NONE, "structured_prune:ratio=0.2,recovery=none",
                                "structured_prune:ratio=0.4,recovery=none", "structured_prune:ratio=0.6,recovery=none")
    assert space.threads == (1, None) and space.batch == (1, 8)
    assert space.size() == 4 * 2 * 3 * 2 * 2
    configs = list(space.configurations())
    assert len(configs) == space.size() and len({c.params().values().__str__() for c in configs}) == space.size()
    assert all(c.is_baseline for c in configs[:4]) and not configs[4].is_baseline  # baselines come first
    assert space_from_text(space.to_yaml()) == space  # the editor round-trips


def test_runnable_leaves_out_impossible_orders_with_reasons():
    space = space_from_text(YAML)
    validity = runnable(space, "torch")
    # export none: quantize none/torch_dynamic; onnx_export: none/ort_static -> 4 of 6 per prune and runtime choice
    assert len(validity.runnable) == 4 * 4 * 4
    assert sum(validity.skipped.values()) == space.size() - len(validity.runnable)
    assert any("needs an ONNX model" in reason for reason in validity.skipped)
    by_params = {tuple(c.params().items()): c for c in validity.runnable}
    some = validity.runnable[7]
    assert space.configuration(some.params()) == some and len(by_params) == len(validity.runnable)


def test_default_spaces_have_runnable_non_baseline_configurations():
    for space, start in ((default_space("torch"), "torch"), (default_space("onnx"), "onnx")):
        validity = runnable(space, start)
        assert sum(not c.is_baseline for c in validity.runnable) >= 10


@pytest.mark.parametrize("text, message", [
    ("techniques: [a, b]", "maps axis names"),
    ("techniques: {q: []}", "needs a list of choices"),
    ("techniques: {q: [none, no_such_technique]}", "no_such_technique"),
    ("techniques: {q: [none, {ort_static_int8: {calibration_size: -5}}]}", "at least"),
    ("techniques: {q: [none, {ort_static_int8: {per_channel: {from: 1, to: 0, step: 1}}}]}", "from <= to"),
    ("techniques: {q: [none, none]}", "twice"),
    ("techniques: {threads: [none]}", "runtime axis"),
    ("runtime: {threads: [0]}", "whole numbers >= 1"),
    ("runtime: {batch: [null]}", "whole numbers >= 1"),
    ("runtime: {cores: [1]}", "threads` and `batch"),
    ("budget: 3", "unknown key"),
    ("techniques: {q: [none", "not valid YAML"),
    ("- a list", "must be a mapping"),
])
def test_bad_spaces_say_what_to_change(text, message):
    with pytest.raises(InferScopeError, match=message):
        space_from_text(text)


def test_missing_space_file(tmp_path):
    with pytest.raises(InferScopeError, match="cannot read the space file"):
        load_space(tmp_path / "nope.yaml")


def test_an_oversized_space_is_refused():
    axes = "\n".join(f"  a{i}: [none, fp16, channels_last, bf16, torch_dynamic_int8]" for i in range(8))
    with pytest.raises(InferScopeError, match="keep it under"):
        runnable(space_from_text(f"techniques:\n{axes}"), "torch")


def test_the_engine_is_an_axis_of_the_default_spaces_and_openvino_nncf_is_a_seed():
    from core.explore.seeding import seed_configurations

    for space, start in ((default_space("torch"), "torch"), (default_space("onnx"), "onnx")):
        assert "openvino" in dict(space.axes)["engine"]
        seeds = seed_configurations(runnable(space, start).runnable, start)
        assert seeds[-1].techniques[-2:] == ("nncf_int8", "openvino") and seeds[-1].threads is None
