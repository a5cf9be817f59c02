import hashlib
import json
import os
from datetime import datetime

import pytest
import torch
from torch import nn

from core import api as api_module
from core import uploads
from core.errors import InferScopeError, ModelError


def onnx_bytes(tmp_path) -> bytes:
    module = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.LazyLinear(10)).eval()
    module(torch.zeros(1, 1, 28, 28))
    path = tmp_path / "m.onnx"
    torch.onnx.export(module, (torch.zeros(1, 1, 28, 28),), str(path), dynamo=False, input_names=["x"],
                      dynamic_axes={"x": {0: "n"}})
    return path.read_bytes()


def test_upload_is_validated_and_stored_under_a_generated_name(api, tmp_path, settings):
    path = api.save_upload("../../etc/evil name é.onnx", onnx_bytes(tmp_path))
    assert path.parent == settings.home / "uploads" and "evil" not in path.name
    (listed,) = [u for u in api.uploads() if u["path"] == str(path)]
    assert listed["name"] == "evil name é.onnx"
    planned = api.plan(api_module.RunRequest(model=str(path), subset=10))
    assert planned.spec.model_source == "onnx"


def test_uploads_are_listed_newest_first_with_their_time(api, tmp_path):
    paths = [api.save_upload(name, onnx_bytes(tmp_path)) for name in ("first.onnx", "second.onnx", "third.onnx")]
    listed = [u for u in api.uploads() if u["path"] in map(str, paths)]
    assert [u["name"] for u in listed] == ["third.onnx", "second.onnx", "first.onnx"]
    times = [datetime.fromisoformat(u["uploaded_at"]) for u in listed]
    assert times == sorted(times, reverse=True) and all(t.tzinfo is not None for t in times)


def test_the_same_bytes_uploaded_twice_are_kept_once_under_the_newest_name(api, tmp_path, settings):
    data = onnx_bytes(tmp_path)
    first, second = api.save_upload("a.onnx", data), api.save_upload("b.onnx", data)
    assert first == second and first.name == f"{hashlib.sha256(data).hexdigest()}.onnx"
    assert [u["name"] for u in api.uploads() if u["path"] == str(first)] == ["b.onnx"]
    assert len(api.store.uploads()) == 1 and api.store.upload_data(api.store.uploads()[0].sha256) == data


def test_an_upload_kept_before_times_were_recorded_takes_its_file_time(api, tmp_path):
    old = api.save_upload("old.onnx", onnx_bytes(tmp_path))
    meta = old.with_suffix(".json")
    meta.write_text(json.dumps({"original_name": "old.onnx"}))  # the metadata format of earlier versions
    os.utime(old, (1_700_000_000, 1_700_000_000))
    new = api.save_upload("new.onnx", onnx_bytes(tmp_path))
    listed = [u for u in api.uploads() if u["path"] in (str(old), str(new))]
    assert [u["name"] for u in listed] == ["new.onnx", "old.onnx"]
    assert datetime.fromisoformat(listed[1]["uploaded_at"]).timestamp() == 1_700_000_000


def test_corrupt_upload_is_refused_and_nothing_is_kept(api, tmp_path, settings):
    before = set((settings.home / "uploads").glob("*")) if (settings.home / "uploads").exists() else set()
    with pytest.raises(ModelError, match="broken.onnx is not an ONNX model: its bytes do not read as one"):
        api.save_upload("broken.onnx", b"\x08\x07garbage" * 10)
    assert set((settings.home / "uploads").glob("*")) == before


def test_upload_over_the_limit(api, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 10)
    with pytest.raises(InferScopeError, match="upload limit"):
        api.save_upload("big.onnx", b"x" * 11)


def test_execution_choices_list_unavailable_with_reasons(api):
    choices = {c["device"]: c for c in api.execution_choices()}
    assert choices["cpu"]["available"]
    if not choices["cuda"]["available"]:
        assert choices["cuda"]["reason"]


def test_baselines_are_added_once(api, run_request):
    from core.api import GridRequest

    grid = GridRequest(models=("lenet5:epochs=1,train_limit=1024",), subset=50,
                       techniques=(("onnx_export", {}),), batch=(1, 4))
    plan = api.plan_grid(grid)
    assert [p.spec.recipe == [] for p in plan.runs] == [True, False, False] and plan.added_baselines == 1
    api.execute(api.submit(run_request(subset=50)))
    assert len(api.plan_grid(grid).runs) == 2 and api.plan_grid(grid).added_baselines == 0


def test_an_unavailable_provider_is_refused_never_replaced(api, run_request):
    import onnxruntime as ort

    if "TensorrtExecutionProvider" in ort.get_available_providers():
        pytest.skip("TensorRT present")
    with pytest.raises(InferScopeError, match="TensorrtExecutionProvider is not in this onnxruntime build"):
        api.plan(run_request("onnx_export", provider="TensorrtExecutionProvider"))
    rows = {p["provider"]: p for p in api.provider_choices()}
    assert rows["CPUExecutionProvider"]["available"] and not rows["TensorrtExecutionProvider"]["available"]
    assert rows["TensorrtExecutionProvider"]["reason"]


def test_flips_of_two_real_runs_show_the_changed_images(api, run_request):
    base = api.execute(api.submit(run_request()))
    int8 = api.execute(api.submit(run_request("onnx_export", "ort_static_int8")))
    assert len(api.store.predictions(base.id)) == base.subset_size
    found = api.flips(int8.id, base.id)
    flipped = found["flips"]
    agreement = 100.0 * (1 - len(flipped.indices) / base.subset_size)
    assert agreement == pytest.approx(int8.metrics["agreement"])  # the same images the run's agreement counted
    assert len(found["classes"]) == 10 and len(found["images"]) == min(24, len(flipped.indices))
    assert all(image.shape == (28, 28) for image in found["images"])
    other = api.execute(api.submit(run_request(subset=100)))
    with pytest.raises(InferScopeError, match="scored on different images"):
        api.flips(other.id, base.id)


def test_an_image_model_on_a_text_dataset_is_refused_before_anything_is_stored(api):
    from core.errors import DataError

    with pytest.raises(DataError, match="model lenet5 does image classification and dataset bbc-news is for text "
                                        "classification; pick one of its datasets: fashion-mnist, imagenet-folder"):
        api.plan(api_module.RunRequest(model="lenet5", dataset="bbc-news", subset=10))
    assert api.runs() == []
