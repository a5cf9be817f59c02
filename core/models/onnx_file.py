"""`onnx` models: a user's ONNX image classifier, validated before anything runs."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.artifacts import OnnxArtifact
from core.errors import ModelError
from core.inputs import InputSpec
from core.models.base import LoadedModel
from core.options import option, to_dict
from core.progress import Progress
from core.settings import Settings

METADATA_INPUT_SPEC = "inferscope.input_spec"
METADATA_LABEL_SPACE = "inferscope.label_space"
MAX_BYTES = 2 * 1024 ** 3  # protobuf's own limit for one file


@dataclass(frozen=True)
class OnnxOptions:
    mean: tuple[float, ...] | None = option(None, "per-channel mean, e.g. 0.485/0.456/0.406; empty = from the file's "
                                                  "metadata, else 0")
    std: tuple[float, ...] | None = option(None, "per-channel std, e.g. 0.229/0.224/0.225; empty = from the file's "
                                                 "metadata, else 1")
    resize: int | None = option(None, "resize the shorter side to this before the center crop", minimum=1)


@dataclass(frozen=True)
class OnnxSummary:
    """What validation learned about the file."""

    input_name: str
    channels: int
    height: int
    width: int
    num_classes: int
    batch: int | None           # a fixed batch size, or None when the batch is dynamic
    metadata: dict[str, str]

    @property
    def label_space(self) -> str:
        return self.metadata.get(METADATA_LABEL_SPACE) or f"custom-{self.num_classes}"


def _dims(value_info) -> list[int | str]:
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?")
            for d in value_info.type.tensor_type.shape.dim]


def validate(path: Path) -> tuple[Any, OnnxSummary]:
    """Load and check an ONNX classifier (one NCHW float input, one [N, classes] output)."""
    import onnx

    if path.is_dir():
        raise ModelError(f"{path} is a folder; give the path of an ONNX file, e.g. {path / 'model.onnx'}")
    if not path.is_file():
        raise ModelError(f"ONNX file {path} does not exist")
    size = path.stat().st_size
    if size == 0 or size > MAX_BYTES:
        raise ModelError(f"{path} is {size} bytes; an ONNX model must be between 1 byte and 2 GiB in one file")
    try:
        model = onnx.load(str(path))
    except Exception:  # protobuf's DecodeError and friends, whose wording means nothing to a user
        raise ModelError(f"{path} is not an ONNX model: its bytes do not read as one (a truncated download, or "
                         "another format renamed .onnx?); export it again with torch.onnx.export") from None
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        first = str(exc).strip().splitlines()[0][:300]
        raise ModelError(f"{path} fails the ONNX checker: {first}") from None
    initializers = {init.name for init in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise ModelError(f"{path} has {len(inputs)} inputs; an image classifier needs exactly one (N, C, H, W) input")
    tensor = inputs[0].type.tensor_type
    if tensor.elem_type != onnx.TensorProto.FLOAT:
        raise ModelError(f"{path}: input {inputs[0].name!r} is {onnx.TensorProto.DataType.Name(tensor.elem_type)}; "
                         "it must be float32 (export with keep_io_types for FP16 models)")
    dims = _dims(inputs[0])
    if len(dims) != 4:
        raise ModelError(f"{path}: input {inputs[0].name!r} has shape {dims}; it must have rank 4 (N, C, H, W)")
    channels, height, width = dims[1:]
    if not all(isinstance(d, int) and d > 0 for d in (channels, height, width)):
        raise ModelError(f"{path}: input shape {dims} has a dynamic channel or spatial size; "
                         "export with fixed C, H, W (only the batch may be dynamic)")
    if channels not in (1, 3):
        raise ModelError(f"{path}: input has {channels} channels; image classifiers here take 1 (grey) or 3 (RGB)")
    outputs = list(model.graph.output)
    out_dims = _dims(outputs[0]) if outputs else []
    if len(out_dims) != 2 or not isinstance(out_dims[1], int) or out_dims[1] < 2:
        raise ModelError(f"{path}: first output has shape {out_dims}; a classifier's output must be (N, classes) "
                         "with a fixed number of classes")
    metadata = {p.key: p.value for p in model.metadata_props}
    batch = dims[0] if isinstance(dims[0], int) and dims[0] > 0 else None
    return model, OnnxSummary(inputs[0].name, channels, height, width, out_dims[1], batch, metadata)


def _input_spec(summary: OnnxSummary, options: OnnxOptions) -> InputSpec:
    stored = json.loads(summary.metadata[METADATA_INPUT_SPEC]) if METADATA_INPUT_SPEC in summary.metadata else None
    base = InputSpec.from_dict(stored) if stored else InputSpec(
        summary.channels, summary.height, summary.width, mean=(0.0,) * summary.channels, std=(1.0,) * summary.channels)
    mean = options.mean or base.mean
    std = options.std or base.std
    for name, values in (("mean", mean), ("std", std)):
        if len(values) not in (1, summary.channels):
            raise ModelError(f"{name} has {len(values)} values; the model has {summary.channels} channels")
    if any(s == 0 for s in std):
        raise ModelError("std must not contain 0")
    expand = lambda v: tuple(v) * summary.channels if len(v) == 1 else tuple(v)  # noqa: E731
    return InputSpec(summary.channels, summary.height, summary.width, expand(mean), expand(std),
                     resize=options.resize or base.resize, interpolation=base.interpolation)


def smoke_test(model_bytes: bytes, summary: OnnxSummary, path: Path) -> None:
    """Run one zero image through onnxruntime: the model must load and give finite logits."""
    import onnxruntime as ort

    try:
        session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
        out = session.run(None, {summary.input_name: np.zeros((1, summary.channels, summary.height, summary.width),
                                                                np.float32)})[0]
    except Exception as exc:  # onnxruntime raises its own exception types
        raise ModelError(f"{path} does not run in onnxruntime: {str(exc).splitlines()[0][:300]}") from None
    if out.shape != (1, summary.num_classes):
        raise ModelError(f"{path}: a batch of 1 gave output shape {out.shape}, expected (1, {summary.num_classes})")
    if not np.isfinite(out).all():
        raise ModelError(f"{path}: the model outputs NaN or infinity for a plain input; check the exported weights")


def build_from_path(path: Path, options: OnnxOptions, settings: Settings, progress: Progress) -> LoadedModel:
    """Validate `path` and wrap it as a model whose FP32 reference is the file itself."""
    path = path.expanduser().resolve()
    model, summary = validate(path)
    model_bytes = path.read_bytes()
    smoke_test(model_bytes, summary, path)
    spec = _input_spec(summary, options)
    notes = [] if METADATA_INPUT_SPEC in summary.metadata or options.mean else [
        "no normalization given: inputs are scaled to 0..1 (set mean=/std= if the model expects otherwise)"]
    return LoadedModel(str(path), "onnx", OnnxArtifact(model_bytes), spec, summary.label_space, summary.num_classes,
                       options={**to_dict(options), "sha256": hashlib.sha256(model_bytes).hexdigest()}, notes=notes)

