"""What a text model reads, as the engine asks every model's input spec: how a subset's texts become its packed
inputs (`prepare`), how each call's batch is padded (`fit`) and what the run stores about its texts (`describe`)."""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.text.tokens import TextShape, pack, tokenize, trim


@dataclass(frozen=True)
class TextInputSpec:
    """A text classifier's input: its tokenizer (a Hugging Face folder) and the sequence shape it runs at."""

    tokenizer: str                # folder holding the tokenizer files
    shape: TextShape = TextShape()
    token_types: bool = True      # the model takes token_type_ids
    item = "text"                 # what one input is called in messages
    transformer = True            # quantizers apply their transformer rules (NNCF's model type)
    # retraining (recovery, distillation) as a transformer is fine-tuned: small batches, a small learning rate,
    # each batch cut to its longest text (padding teaches nothing)
    retrain_batch, retrain_lr, retrain_fit = 16, 1e-4, staticmethod(trim)

    def prepare(self, split: Any, indices: np.ndarray) -> np.ndarray:
        """The texts at `indices`, tokenized and packed at `max_length` (a call's batch is cut by `fit`)."""
        return pack(self._tokenized(split, indices).batch(np.arange(len(indices))))

    @property
    def fit(self) -> Callable[[np.ndarray], np.ndarray] | None:
        """Dynamic padding cuts each call's batch to its longest text; fixed padding runs it as packed."""
        return trim if self.shape.padding == "dynamic" else None

    def describe(self, split: Any, indices: np.ndarray, batch: int) -> dict[str, Any]:
        """The real token lengths of the texts, how many were cut, and the padding's share at this batch."""
        encode, pad_id, _ = encoder(self.tokenizer)
        tokenized = tokenize(split.texts(indices), encode, pad_id, self.shape, self.token_types)
        return {"kind": "text", **asdict(self.shape), **tokenized.summary(batch)}

    def _tokenized(self, split: Any, indices: np.ndarray):
        encode, pad_id, _ = encoder(self.tokenizer)
        return tokenize(split.texts(indices), encode, pad_id, TextShape(self.shape.max_length, "fixed"),
                        self.token_types)

    def companion_files(self, folder: Path) -> list[Path]:
        """The tokenizer's files a deployment needs beside the graph, saved into `folder`."""
        from transformers import AutoTokenizer

        folder.mkdir(parents=True, exist_ok=True)
        return [Path(p) for p in AutoTokenizer.from_pretrained(self.tokenizer).save_pretrained(str(folder))
                if Path(p).is_file()]

    def to_dict(self) -> dict[str, Any]:
        return {"tokenizer": self.tokenizer, **asdict(self.shape), "token_types": self.token_types}


@functools.lru_cache(maxsize=8)
def encoder(folder: str):
    """The tokenizer of a folder, loaded once per process (loading one takes about a second)."""
    from core.text.pretrained import tokenizer_encoder

    return tokenizer_encoder(Path(folder))
