import onnx
import pytest
import torch
from torch import nn

from core.errors import ModelError
from core.models import build_model, parse_model
from tests.helpers import TinyClassifier, export_onnx


def export(path, module, shape, dynamic_axes=None):
    return export_onnx(path, module, shape, dynamic_axes)


def test_valid_classifier_reads_spec_and_classes(tmp_path, settings):
    path = export(tmp_path / "ok.onnx", TinyClassifier(), (1, 3, 16, 16), {"x": {0: "n"}})
    model = build_model(parse_model(str(path)), settings)
    assert model.input_spec.shape(1) == (1, 3, 16, 16)
    assert model.num_classes == 5 and model.label_space == "custom-5" and model.artifact.kind == "onnx"


def test_options_set_normalization(tmp_path, settings):
    path = export(tmp_path / "ok.onnx", TinyClassifier(channels=1), (1, 1, 8, 8))
    model = build_model(parse_model(f"{path}:mean=0.5,std=0.25"), settings)
    assert model.input_spec.mean == (0.5,) and model.input_spec.std == (0.25,)


def test_not_onnx_and_truncated(tmp_path, settings):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"hello, not a protobuf at all \x00\xff")
    with pytest.raises(ModelError, match="not an ONNX model: its bytes do not read as one") as raised:
        build_model(parse_model(str(bad)), settings)
    assert "Error" not in str(raised.value) and "proto" not in str(raised.value).lower()  # no protobuf wording
    good = export(tmp_path / "good.onnx", TinyClassifier(), (1, 3, 16, 16))
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ModelError, match="cut.onnx") as raised:
        build_model(parse_model(str(cut)), settings)
    assert "Error" not in str(raised.value) and "proto" not in str(raised.value).lower()
    with pytest.raises(ModelError, match="does not exist"):
        build_model(parse_model(str(tmp_path / "missing.onnx")), settings)


def test_wrong_rank_and_dynamic_channels(tmp_path, settings):
    class Flat(nn.Module):
        def forward(self, x):
            return x[:, :4] * 2
    rank2 = export(tmp_path / "rank2.onnx", Flat(), (1, 10))
    with pytest.raises(ModelError, match="rank 4"):
        build_model(parse_model(str(rank2)), settings)
    dyn = export(tmp_path / "dyn.onnx", TinyClassifier(), (1, 3, 16, 16), {"x": {0: "n", 1: "c"}})
    with pytest.raises(ModelError, match="dynamic channel"):
        build_model(parse_model(str(dyn)), settings)


def test_nan_output_is_refused(tmp_path, settings):
    module = TinyClassifier()
    with torch.no_grad():
        module.fc.bias.fill_(float("nan"))
    path = export(tmp_path / "nan.onnx", module, (1, 3, 16, 16))
    with pytest.raises(ModelError, match="NaN"):
        build_model(parse_model(str(path)), settings)
    assert onnx.load(str(path))  # the file itself is valid ONNX
