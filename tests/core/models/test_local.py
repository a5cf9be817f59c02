import json

import pytest
import torch

from core.errors import UnknownNameError
from core.models import build_model, parse_model
from core.models.local_archs import ARCHITECTURES
from core.progress import no_progress, stage_name


def test_architectures_have_clearly_different_costs():
    from core.models.local import _gflops

    costs = sorted(_gflops(build()) for build, _ in ARCHITECTURES.values())
    assert costs[0] * 3 < costs[1] and costs[1] * 1.5 < costs[2]


def test_trains_once_then_loads_from_cache(private_cache, settings):
    request = parse_model("lenet5:epochs=1,train_limit=256,seed=7")
    seen = []
    first = build_model(request, settings, lambda stage, f: seen.append(stage))
    training = [s for s in seen if stage_name(s) == "train"]
    assert training and training[-1] == "train · epoch 1 of 1 · 0 s left"  # the epoch and the time left
    (cached,) = (settings.models_dir / "local").glob("lenet5-*.json")
    record = json.loads(cached.read_text())
    seen.clear()
    second = build_model(request, settings, lambda stage, f: seen.append(stage))
    assert not [s for s in seen if stage_name(s) == "train"]
    for a, b in zip(first.artifact.module.state_dict().values(), second.artifact.module.state_dict().values()):
        assert torch.equal(a, b)
    assert first.label_space == "fashion-mnist" and first.input_spec.channels == 1
    assert record["train_limit"] == 256


def test_cache_key_follows_seed_and_epochs(settings):
    a = build_model(parse_model("lenet5:epochs=1,train_limit=256,seed=1"), settings, no_progress)
    b = build_model(parse_model("lenet5:epochs=1,train_limit=256,seed=2"), settings, no_progress)
    assert a.options["cache_key"] != b.options["cache_key"]


def test_unknown_model_and_option():
    with pytest.raises(UnknownNameError, match="valid models: .*lenet5"):
        parse_model("lenet6")
    with pytest.raises(Exception, match="has no option 'epoch'"):
        parse_model("lenet5:epoch=3")


def test_a_damaged_cache_file_is_trained_again(private_cache, settings):
    request = parse_model("lenet5:epochs=1,train_limit=128,seed=11")
    model = build_model(request, settings)
    weights = next((settings.models_dir / "local").glob(f"lenet5-{model.options['cache_key']}.pt"))
    weights.write_bytes(b"garbage")
    seen = []
    again = build_model(request, settings, lambda stage, f: seen.append(stage))
    assert "train" in map(stage_name, seen) and again.options["cache_key"] == model.options["cache_key"]
    assert weights.stat().st_size > 1000
