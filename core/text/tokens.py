"""Texts tokenized once, outside the timed region, then padded batch by batch: to a fixed `max_length` (what an
exported graph with a static shape runs) or to the longest text of each batch (dynamic padding). A run stores the
real token lengths of its subset and the padded length it ran at, so per-text latency, texts/s and tokens/s say
how much of the work was padding."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

PADDINGS = ("fixed", "dynamic")
MAX_LENGTHS = (64, 128, 256, 512)


@dataclass(frozen=True)
class TextShape:
    """How texts become a model's inputs: the longest sequence kept, and how batches are padded."""

    max_length: int = 128
    padding: str = "fixed"   # "fixed": every batch padded to max_length; "dynamic": to its longest text

    def __post_init__(self) -> None:
        if self.padding not in PADDINGS:
            raise ValueError(f"padding must be one of {', '.join(PADDINGS)}; got {self.padding!r}")
        if self.max_length < 2:
            raise ValueError(f"max length must be at least 2 tokens; got {self.max_length}")


@dataclass
class TokenizedTexts:
    """Token ids of each text (special tokens included, cut at `shape.max_length`) and their untruncated lengths."""

    ids: list[np.ndarray]
    full_lengths: np.ndarray
    pad_id: int
    shape: TextShape
    token_types: bool = True          # the model takes token_type_ids (BERT does; DistilBERT and RoBERTa do not)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def lengths(self) -> np.ndarray:
        """The tokens each text is run with (after truncation)."""
        return np.asarray([len(ids) for ids in self.ids], dtype=np.int64)

    def padded_length(self, indices: Sequence[int] | np.ndarray) -> int:
        """The length a batch of these texts is padded to."""
        if self.shape.padding == "fixed":
            return self.shape.max_length
        return int(max(len(self.ids[int(i)]) for i in np.asarray(indices)))

    def batch(self, indices: Sequence[int] | np.ndarray) -> dict[str, np.ndarray]:
        """The model's named int64 inputs for the texts at `indices`, padded as `shape` says."""
        indices = np.asarray(indices)
        width = self.padded_length(indices)
        input_ids = np.full((len(indices), width), self.pad_id, dtype=np.int64)
        attention_mask = np.zeros((len(indices), width), dtype=np.int64)
        for row, i in enumerate(indices):
            ids = self.ids[int(i)]
            input_ids[row, :len(ids)] = ids
            attention_mask[row, :len(ids)] = 1
        inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if self.token_types:
            inputs["token_type_ids"] = np.zeros_like(input_ids)
        return inputs

    def padded_tokens(self, batch: int) -> int:
        """Tokens processed, padding included, when the texts run in order in batches of `batch`."""
        starts = range(0, len(self), batch)
        return sum(self.padded_length(range(s, min(s + batch, len(self)))) * (min(s + batch, len(self)) - s)
                   for s in starts)

    def summary(self, batch: int) -> dict[str, float]:
        """What a run stores about its texts: real token lengths, how many were cut, and the padding's share."""
        real = int(self.lengths.sum())
        padded = self.padded_tokens(batch)
        return {"tokens_p50": float(np.percentile(self.full_lengths, 50)),
                "tokens_p90": float(np.percentile(self.full_lengths, 90)),
                "tokens_max": float(self.full_lengths.max()),
                "truncated_pct": 100.0 * float(np.mean(self.full_lengths > self.shape.max_length)),
                "tokens_mean_run": real / len(self), "padded_length_mean": padded / len(self),
                "padding_pct": 100.0 * (1 - real / padded) if padded else 0.0}


Encoder = Callable[[list[str], "int | None"], list[list[int]]]  # (texts, max length or None) -> ids with specials


def tokenize(texts: list[str], encode: Encoder, pad_id: int, shape: TextShape,
             token_types: bool = True) -> TokenizedTexts:
    """Tokenize `texts` with the model's own tokenizer (`encode`, which truncates as the model was trained to),
    and once more untruncated to record how long the texts really are."""
    full_lengths = np.asarray([len(seq) for seq in encode(texts, None)], dtype=np.int64)
    ids = [np.asarray(seq, dtype=np.int64) for seq in encode(texts, shape.max_length)]
    return TokenizedTexts(ids, full_lengths, pad_id, shape, token_types)


# The engine moves a batch of texts as one int64 array (texts, 3, length): token ids, attention mask and token
# types, so every batching, caching and request-merging path that moves images moves texts unchanged; a runtime
# splits it into the model's named inputs (`unpack`) when it prepares a call, outside the timed region.
PACKED_FIELDS = ("input_ids", "attention_mask", "token_type_ids")


def pack(inputs: dict[str, np.ndarray]) -> np.ndarray:
    """Named inputs of one batch -> the packed (texts, 3, length) int64 array (token types zero when absent)."""
    ids = inputs["input_ids"]
    types = inputs.get("token_type_ids", np.zeros_like(ids))
    return np.ascontiguousarray(np.stack([ids, inputs["attention_mask"], types], axis=1), dtype=np.int64)


def unpack(batch: np.ndarray, names: Sequence[str]) -> dict[str, np.ndarray]:
    """The named inputs a graph declares, taken from a packed batch."""
    unknown = [name for name in names if name not in PACKED_FIELDS]
    if unknown:
        raise ValueError(f"a text model's inputs must be among {', '.join(PACKED_FIELDS)}; this one also takes "
                         f"{', '.join(unknown)}")
    return {name: np.ascontiguousarray(batch[:, PACKED_FIELDS.index(name)]) for name in names}


def trim(batch: np.ndarray) -> np.ndarray:
    """Dynamic padding: a packed batch cut to its longest text (the columns where some attention mask is 1)."""
    width = max(1, int(batch[:, 1].sum(axis=1).max()))
    return batch[:, :, :width]
