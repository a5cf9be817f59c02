"""From the held-out texts a language model is scored on (`core.datasets.held_out_text`): windows (each text's
first tokens) for perplexity, and prompts of one length for timing and continuations."""
from __future__ import annotations

from typing import Any

import numpy as np

from core.datasets import load_dataset
from core.errors import DataError
from core.settings import Settings


def held_out_texts(dataset: str, settings: Settings) -> list[str]:
    """Every text of a text-generation dataset's evaluation split (`core.datasets.held_out_text`), by its spec."""
    split = load_dataset(dataset, settings, None).evaluation
    return split.texts(np.arange(len(split)))


def windows(tokenizer: Any, texts: list[str], length: int, count: int) -> list[np.ndarray]:
    """The first `length` tokens of the first `count` texts that have at least two (perplexity's windows)."""
    ids = tokenizer(texts[:count * 2], add_special_tokens=False)["input_ids"]
    chosen = [np.asarray(i[:length], dtype=np.int64) for i in ids if len(i) >= 2][:count]
    if not chosen:
        raise DataError("no text has two tokens to score")
    return chosen


def prompts(tokenizer: Any, texts: list[str], length: int, count: int) -> np.ndarray:
    """(count, length) prompts: the first `length` tokens of texts that have that many; refused when too few do."""
    ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
    long_enough = [i[:length] for i in ids if len(i) >= length][:count]
    if len(long_enough) < count:
        raise DataError(f"only {len(long_enough)} of {len(texts)} texts have {length} tokens for a prompt and "
                        f"{count} are needed; shorten the prompt length")
    return np.asarray(long_enough, dtype=np.int64)
