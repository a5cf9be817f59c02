"""Small file makers and checks shared by tests."""
from __future__ import annotations

import gzip
import os
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn


def write_idx(path: Path, array: np.ndarray, compress: bool = True) -> None:
    magic = 2051 if array.ndim == 3 else 2049
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)


def write_fashion_mnist(folder: Path, train: int = 200, test: int = 100, seed: int = 0) -> Path:
    """A fake but well-formed Fashion-MNIST folder (random pixels, balanced labels)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, count in (("train", train), ("t10k", test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (count, 28, 28)))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", np.arange(count) % 10)
    return folder


def write_image_folder(root: Path, classes: dict[str, int], size: int = 40, seed: int = 0) -> Path:
    """Class folders of small JPEGs: {wnid: count}."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for wnid, count in classes.items():
        (root / wnid).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            pixels = rng.integers(0, 256, (size, size + 10, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / wnid / f"img_{i}.JPEG")
    return root


def brute_force_front(runs, constraints) -> list[int]:
    """Ids of the feasible runs no other feasible run dominates, by pairwise comparison (the reference)."""
    from core.explore import analysis
    from core.metrics import OBJECTIVES
    from core.pareto import Direction, dominates

    ok = analysis.feasible(runs, constraints)
    value = lambda r: (r.metrics[constraints.latency], r.metrics[constraints.accuracy])  # noqa: E731
    directions = [Direction.MIN, OBJECTIVES[constraints.accuracy].direction]  # a perplexity is minimized
    return sorted(r.id for r in ok if not any(dominates(value(o), value(r), directions) for o in ok))


class TinyClassifier(nn.Module):
    """A conv and a linear layer: the smallest (N, C, H, W) -> (N, classes) image classifier."""

    def __init__(self, channels: int = 3, classes: int = 5):
        super().__init__()
        self.conv = nn.Conv2d(channels, 4, 3)
        self.fc = nn.Linear(4, classes)

    def forward(self, x):
        return self.fc(self.conv(x).mean((2, 3)))


def export_onnx(path: Path, module: nn.Module, shape, dynamic_axes=None) -> Path:
    """`module` as an ONNX file at `path` (TorchScript exporter: fast, and the input is named x)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(module.eval(), (torch.zeros(shape),), str(path), dynamo=False, input_names=["x"],
                      dynamic_axes=dynamic_axes)
    return path


def wait_for(predicate, timeout: float = 180.0, what: str = "condition") -> None:
    """Poll `predicate` until it holds; fail the test after `timeout` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


OUTLIER = 1000.0
HEAD = "/11/Gemm"  # the classifier layer, as the TorchScript exporter names it


def sensitive_model(settings, path, outlier: str = "weights"):
    """The trained tiny lenet5 made deliberately sensitive to INT8, computing exactly what it did in float.

    `weights`: one input feature of the classifier is always 0 (the unit before it never fires) and the
    classifier's weights on it are an outlier (1000): per-channel INT8 weights, whose one scale per output
    row must span 1000, round every other weight of that layer to nothing. `activation`: channel 0 of the
    second convolution is scaled up 1000x and the next layer's weights on it down as much, so one activation
    scale must span an outlier range and every other channel rounds to nothing on its way through.
    """
    import json

    import onnx

    from core.models import build_model, parse_model
    from core.models.onnx_file import METADATA_INPUT_SPEC, METADATA_LABEL_SPACE

    model = build_model(parse_model("lenet5:epochs=1,train_limit=4096"), settings)
    module = model.artifact.module
    with torch.no_grad():
        if outlier == "weights":
            hidden, head = module[9], module[11]
            hidden.weight[0] = 0.0
            hidden.bias[0] = -1.0           # ReLU(-1) = 0: feature 0 of the head's input is always 0
            head.weight[:, 0] = OUTLIER     # so these weights change nothing in float
        else:
            conv, linear = module[3], module[7]
            conv.weight[0] *= OUTLIER
            conv.bias[0] *= OUTLIER         # ReLU and max-pooling commute with the scale
            linear.weight[:, :25] /= OUTLIER  # flatten order: channel 0's 5x5 features come first
    torch.onnx.export(module.eval(), (torch.zeros(1, 1, 28, 28),), str(path), dynamo=False, input_names=["x"],
                      dynamic_axes={"x": {0: "n"}})
    proto = onnx.load(str(path))
    for key, value in ((METADATA_INPUT_SPEC, json.dumps(model.input_spec.to_dict())),
                       (METADATA_LABEL_SPACE, "fashion-mnist")):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(path))
    return path


POSTGRES_URL = os.environ.get("INFERSCOPE_TEST_POSTGRES_URL")
STORE_BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])  # CI's PostgreSQL when there is one


def empty_store_url(backend: str, tmp_path: Path, name: str = "store.db") -> str:
    """A store URL with nothing in it: a new SQLite file, or the test PostgreSQL database emptied."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / name}"
    from sqlalchemy import MetaData, create_engine

    scratch = create_engine(POSTGRES_URL)
    everything = MetaData()  # what is there, not what this code declares: an old test may leave schema_info behind
    everything.reflect(scratch)
    everything.drop_all(scratch)
    scratch.dispose()
    return POSTGRES_URL
