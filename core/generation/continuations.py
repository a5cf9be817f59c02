"""Continuations side by side: a run's greedy tokens for a prompt against FP32's, decoded, with the first token
where they part marked — what Compare shows for text generation."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Continuation:
    """One prompt's continuation: the text up to the first token that differs from the reference's, that token's
    text, and the rest (both empty when every token agrees); `first_difference` is None when none differs."""

    prompt: str
    agreed: str
    differing: str
    rest: str
    first_difference: int | None
    tokens: int

    @property
    def text(self) -> str:
        return self.agreed + self.differing + self.rest


def first_difference(tokens: np.ndarray, reference: np.ndarray) -> int | None:
    """Index of the first position where the two token rows differ (None: they agree throughout)."""
    differs = np.flatnonzero(np.asarray(tokens) != np.asarray(reference))
    return int(differs[0]) if len(differs) else None


def continuation(tokenizer: Any, prompt: np.ndarray, tokens: np.ndarray, reference: np.ndarray) -> Continuation:
    """The decoded continuation of one prompt, split at its first difference from `reference`."""
    cut = first_difference(tokens, reference)
    tokens = [int(t) for t in tokens]
    decode = tokenizer.decode
    text = decode(tokens)
    if cut is None:
        return Continuation(decode(list(map(int, prompt))), text, "", "", None, len(tokens))
    agreed = decode(tokens[:cut])
    through = decode(tokens[:cut + 1])
    return Continuation(decode(list(map(int, prompt))), agreed, through[len(agreed):], text[len(through):], cut,
                        len(tokens))
