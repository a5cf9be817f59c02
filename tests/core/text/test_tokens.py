"""Tokenized texts padded per batch: fixed to max_length or dynamic to the batch's longest, with the real lengths
and the padding's share a run stores."""
from __future__ import annotations

import numpy as np
import pytest

from core.text.tokens import TextShape, tokenize

CLS, SEP, PAD = 101, 102, 0


def _encode(texts, max_length):
    """A word-per-token encoder with [CLS] and [SEP], truncating like a real tokenizer."""
    out = []
    for text in texts:
        words = [1000 + len(w) for w in text.split()]
        if max_length is not None:
            words = words[:max_length - 2]
        out.append([CLS, *words, SEP])
    return out


TEXTS = ["one", "one two three four five six seven eight", "one two"]


def test_fixed_padding_pads_every_batch_to_max_length_and_masks_the_padding():
    texts = tokenize(TEXTS, _encode, PAD, TextShape(max_length=6, padding="fixed"))
    batch = texts.batch([0, 1])
    assert batch["input_ids"].shape == (2, 6) and batch["input_ids"].dtype == np.int64
    assert batch["input_ids"][0].tolist() == [CLS, 1003, SEP, PAD, PAD, PAD]
    assert batch["attention_mask"][0].tolist() == [1, 1, 1, 0, 0, 0]
    assert batch["input_ids"][1][-1] == SEP  # truncated, and still ended as the tokenizer ends a sequence
    assert batch["token_type_ids"].sum() == 0


def test_dynamic_padding_pads_each_batch_to_its_longest_text():
    texts = tokenize(TEXTS, _encode, PAD, TextShape(max_length=6, padding="dynamic"), token_types=False)
    assert texts.batch([0, 2])["input_ids"].shape == (2, 4)
    assert texts.batch([0])["input_ids"].shape == (1, 3)
    assert "token_type_ids" not in texts.batch([0])


def test_the_summary_says_how_long_the_texts_are_and_how_much_was_padding():
    fixed = tokenize(TEXTS, _encode, PAD, TextShape(max_length=6, padding="fixed")).summary(batch=1)
    dynamic = tokenize(TEXTS, _encode, PAD, TextShape(max_length=6, padding="dynamic")).summary(batch=1)
    assert fixed["tokens_max"] == 10 and fixed["truncated_pct"] == pytest.approx(100 / 3)
    assert fixed["tokens_mean_run"] == pytest.approx((3 + 6 + 4) / 3)
    assert fixed["padding_pct"] == pytest.approx(100 * (1 - 13 / 18))
    assert dynamic["padding_pct"] == 0.0  # one text per batch: nothing to pad


@pytest.mark.parametrize("kwargs, words", [({"padding": "longest"}, "padding must be one of fixed, dynamic"),
                                           ({"max_length": 1}, "at least 2 tokens")])
def test_an_impossible_shape_is_refused(kwargs, words):
    with pytest.raises(ValueError, match=words):
        TextShape(**kwargs)
