"""A tiny GPT-2 with random weights (2 layers, width 32, 64 tokens), built fresh for each test that asks."""
from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def tiny_lm():
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    return GPT2LMHeadModel(GPT2Config(vocab_size=64, n_positions=64, n_embd=32, n_layer=2, n_head=2)).eval()


@pytest.fixture
def prompts() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 64, (4, 12))
