"""A continuation split where it parts from FP32's."""
from __future__ import annotations

import numpy as np
import pytest

from core.generation.continuations import continuation, first_difference
from core.generation.lm import train_tokenizer


@pytest.fixture
def tokenizer(tmp_path):
    return train_tokenizer(["the cat sat on the mat and the dog sat on the log"] * 30, 300, tmp_path / "tok")


def test_first_difference():
    assert first_difference(np.array([1, 2, 3]), np.array([1, 2, 3])) is None
    assert first_difference(np.array([1, 9, 3]), np.array([1, 2, 3])) == 1


def test_the_text_is_split_at_the_first_differing_token(tokenizer):
    reference = np.array(tokenizer(" the cat sat on the mat")["input_ids"])
    tokens = np.array(tokenizer(" the cat sat on the log")["input_ids"])
    prompt = np.array(tokenizer("and")["input_ids"])
    split = continuation(tokenizer, prompt, tokens, reference)
    assert split.prompt == "and"
    assert split.agreed == " the cat sat on the" and split.differing == " log" and split.rest == ""
    assert split.text == " the cat sat on the log" and split.first_difference == len(tokens) - 1
    same = continuation(tokenizer, prompt, reference, reference)
    assert same.first_difference is None and same.agreed == " the cat sat on the mat" and same.differing == ""
