"""`local` models: small public architectures trained here on Fashion-MNIST and cached."""
from __future__ import annotations

import functools
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.artifacts import TorchArtifact
from core.errors import ModelError
from core.files import atomic_write
from core.inputs import InputSpec
from core.models.base import LoadedModel, ModelEntry
from core.models.local_archs import ARCHITECTURES
from core.options import option, parse_key_values, parse_options, split_spec, to_dict
from core.progress import Progress
from core.settings import Settings

DATASET = "fashion-mnist"
INPUT_SPEC = InputSpec(channels=1, height=28, width=28, mean=(0.2860,), std=(0.3530,))
TRAINING_VERSION = 2  # bump when the training loop changes, so old caches are not reused
DEFAULT_EPOCHS = {"lenet5": 10, "resnet8": 3, "mobilenetv2-tiny": 2}


@dataclass(frozen=True)
class LocalOptions:
    epochs: int | None = option(None, "training epochs; empty = the architecture's default", minimum=1, maximum=200)
    seed: int = option(0, "training seed", minimum=0)
    train_limit: int | None = option(None, "train on only this many images (a quick, weaker model)", minimum=64)
    teacher: str | None = option(None, "distil from this Fashion-MNIST model (e.g. resnet8) instead of labels alone")
    temperature: float = option(4.0, "distillation temperature", minimum=1.0, maximum=20.0, requires="teacher")
    alpha: float = option(0.7, "weight of the teacher's soft targets", minimum=0.0, maximum=1.0, requires="teacher")


def _data_digest(split) -> str:
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(split.pixels).tobytes())
    digest.update(np.ascontiguousarray(split.labels).tobytes())
    return digest.hexdigest()[:16]


def cache_key(arch: str, epochs: int, seed: int, train_limit: int | None, data_digest: str,
              teacher: dict | None = None) -> str:
    """Key of a trained model: architecture, seed, epochs, training data, teacher and training code version."""
    fields = {"arch": arch, "epochs": epochs, "seed": seed, "limit": train_limit, "data": data_digest,
              "version": TRAINING_VERSION}
    if teacher:
        fields["teacher"] = teacher
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def weights_digest(module) -> str:
    """A teacher's identity: the hash of its weights."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def cache_paths(settings: Settings, arch: str, key: str) -> tuple[Path, Path]:
    folder = settings.models_dir / "local"
    return folder / f"{arch}-{key}.pt", folder / f"{arch}-{key}.json"


def test_accuracy(module, dataset) -> float:
    """Top-1 (percent) of `module` on the dataset's full evaluation split."""
    import torch

    from core.models.training import split_tensors

    x, y = split_tensors(dataset.evaluation, INPUT_SPEC, None, 0)
    with torch.inference_mode():
        predictions = torch.cat([module(x[i:i + 1000]).argmax(1) for i in range(0, len(x), 1000)])
    return float((predictions == y).float().mean() * 100)


def _teacher_module(options: LocalOptions, settings: Settings, progress: Progress):
    """The teacher named in `options.teacher` ("resnet8[:k=v,...]"): a local model, the only PyTorch Fashion-MNIST
    models there are, built (trained or loaded) like any other."""
    name, rest = split_spec(options.teacher)
    entry = next((e for e in ENTRIES if e.name == name), None)
    if entry is None:
        raise ModelError(f"teacher {options.teacher} is not a PyTorch Fashion-MNIST model; pick a local model "
                         f"({', '.join(ARCHITECTURES)})")
    values = parse_key_values(rest, what=f"model {name}") if rest else {}
    return entry.build(parse_options(entry.options_cls, values, what=f"model {name}"), settings,
                       progress).artifact.module


def train_or_load(arch: str, options: LocalOptions, settings: Settings, progress: Progress,
                  teacher_module: Any = None) -> tuple[Any, dict]:
    """Return (module, training record), training and caching it on first use.

    With a teacher (given as a module, or named in `options.teacher`) the student learns from the
    teacher's soft targets too; the teacher's weights are part of the cache key.
    """
    import torch

    from core.datasets import load_dataset
    from core.models.training import Distillation, train_classifier

    dataset = load_dataset(DATASET, settings, INPUT_SPEC)
    epochs = options.epochs or DEFAULT_EPOCHS[arch]
    if teacher_module is None and options.teacher:
        teacher_module = _teacher_module(options, settings, progress)
    teacher = None if teacher_module is None else {
        "weights": weights_digest(teacher_module), "temperature": options.temperature, "alpha": options.alpha}
    key = cache_key(arch, epochs, options.seed, options.train_limit, _data_digest(dataset.train), teacher)
    weights_path, record_path = cache_paths(settings, arch, key)
    module = ARCHITECTURES[arch][0]()
    if weights_path.is_file() and record_path.is_file():
        try:
            module.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
            return module.eval(), json.loads(record_path.read_text())
        except Exception as exc:  # a damaged cache file is retrained, never trusted
            print(f"cached weights {weights_path} are unreadable ({exc}); training again", file=sys.stderr)
    torch.manual_seed(options.seed)
    module = ARCHITECTURES[arch][0]()
    distill = None if teacher_module is None else Distillation(teacher_module, options.temperature, options.alpha)
    result = train_classifier(module, dataset.train, INPUT_SPEC, epochs=epochs, seed=options.seed,
                              limit=options.train_limit, progress=progress, distill=distill)
    record = {"arch": arch, "key": key, "epochs": epochs, "seed": options.seed, "train_limit": options.train_limit,
              "teacher": options.teacher, "teacher_weights": teacher and teacher["weights"],
              "train_seconds": round(result.seconds, 2), "final_loss": result.final_loss,
              "test_top1": round(test_accuracy(module, dataset), 2), "threads": torch.get_num_threads()}
    atomic_write(weights_path, lambda p: torch.save(module.state_dict(), p))
    atomic_write(record_path, lambda p: p.write_text(json.dumps(record, indent=2)))
    return module.eval(), record


def _builder(arch: str):
    def build(options: LocalOptions, settings: Settings, progress: Progress) -> LoadedModel:
        if arch not in ARCHITECTURES:
            raise ModelError(f"no local architecture {arch!r}")
        module, record = train_or_load(arch, options, settings, progress)
        how = f"distilled from {options.teacher}" if options.teacher else "trained here"
        notes = [f"{how}: {record['epochs']} epochs, seed {record['seed']}, "
                 f"{record['test_top1']}% top-1 on the full test split"]
        return LoadedModel(arch, "local", TorchArtifact(module), INPUT_SPEC, DATASET, 10,
                           options={**to_dict(options), "cache_key": record["key"]}, notes=notes)
    return build


def _describer(arch: str):
    def describe(settings: Settings) -> dict[str, Any]:
        params, gflops = _cost(arch)
        records = [json.loads(p.read_text()) for p in (settings.models_dir / "local").glob(f"{arch}-*.json")]
        defaults = [r for r in records if r.get("epochs") == DEFAULT_EPOCHS[arch] and r.get("seed") == 0
                    and not r.get("train_limit") and not r.get("teacher")]
        record = defaults[0] if defaults else None  # only the default training describes the model
        return {"params": params, "gflops": gflops,
                "input": [1, 28, 28], "weights_offline": True,
                "weights": "cached" if record else "trained on first use",
                "reference_top1": record["test_top1"] if record else None}
    return describe


@functools.lru_cache(maxsize=None)
def _cost(arch: str) -> tuple[int, float]:
    """Parameters and GFLOPs of an architecture: fixed, so counted once per process (pages list models often)."""
    module = ARCHITECTURES[arch][0]()
    return sum(p.numel() for p in module.parameters()), _gflops(module)


def _gflops(module) -> float:
    """Multiply-adds x2 for one 28x28 image, counted by torch's FLOP counter."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        module.eval()(torch.zeros(1, *INPUT_SPEC.shape(1)[1:]))
    return round(counter.get_total_flops() / 1e9, 5)


ENTRIES = [ModelEntry(name=arch, source="local", description=f"{text}; trained here on Fashion-MNIST",
                      label_space=DATASET, options_cls=LocalOptions, build=_builder(arch), describe=_describer(arch))
           for arch, (_, text) in ARCHITECTURES.items()]
