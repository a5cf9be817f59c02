"""Held-out text for language models: BBC News offline, WikiText-2 from a placed hub cache, and the windows and
prompts cut from them."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import DataError, ModelError
from core.generation import corpus
from core.generation.lm import load_causal_lm, train_tokenizer
from core.settings import load_settings


@pytest.fixture
def tokenizer(tmp_path):
    texts = ["The market rose again today as shares climbed."] * 20 + ["Sport results were announced."] * 20
    return train_tokenizer(texts, 300, tmp_path / "tokenizer")


def test_bbc_news_held_out_articles_are_the_evaluation_split():
    texts = corpus.held_out_texts("bbc-news-articles", load_settings())
    assert len(texts) > 400 and all(text.strip() for text in texts)


def place_wikitext(cache: str, lines: list[str]) -> None:
    """Write a WikiText-2 test file where huggingface_hub's cache layout expects it."""
    from pathlib import Path

    import pyarrow as pa
    import pyarrow.parquet as pq

    repo = Path(cache) / "datasets--Salesforce--wikitext"
    snapshot = repo / "snapshots" / "abc123" / "wikitext-2-raw-v1"
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    pq.write_table(pa.table({"text": lines}), snapshot / "test-00000-of-00001.parquet")


def test_wikitext_is_read_from_a_placed_hub_cache_as_articles(tmp_path):
    lines = ["", " = Robert Boulter = \n", "", " Robert Boulter is an English actor . \n", " = = Career = = \n",
             " He appeared in 2000 . \n", " = Du Fu = \n", " Du Fu was a poet . \n"]
    place_wikitext(str(tmp_path), lines)
    articles = corpus.held_out_texts(f"wikitext-2:{tmp_path}", load_settings())
    assert articles == ["= Robert Boulter = Robert Boulter is an English actor . = = Career = = He appeared in 2000 .",
                        "= Du Fu = Du Fu was a poet ."]


def test_wikitext_offline_and_absent_says_what_to_do(tmp_path):
    with pytest.raises(DataError, match="not in the Hugging Face cache"):
        corpus.held_out_texts(f"wikitext-2:{tmp_path}", load_settings())


def test_windows_and_prompts(tokenizer):
    texts = ["The market rose again today as shares climbed.", "x", "Sport results were announced."]
    windows = corpus.windows(tokenizer, texts, 4, 10)
    assert [len(w) for w in windows] == [4, 4] and all(w.dtype == np.int64 for w in windows)
    prompts = corpus.prompts(tokenizer, texts, 3, 2)
    assert prompts.shape == (2, 3)
    with pytest.raises(DataError, match="only 2 of 3 texts have 3 tokens .* 3 are needed; shorten the prompt"):
        corpus.prompts(tokenizer, texts, 3, 3)


def test_a_saved_causal_lm_folder_loads_offline(tiny_lm, tokenizer, tmp_path):
    tiny_lm.save_pretrained(tmp_path / "lm")
    tokenizer.save_pretrained(tmp_path / "lm")
    model, loaded = load_causal_lm(str(tmp_path / "lm"), load_settings())
    assert model.config.n_layer == 2 and loaded.eos_token_id == tokenizer.eos_token_id


def test_an_unknown_causal_lm_offline_is_refused_in_words(tmp_path):
    with pytest.raises(ModelError, match="offline and not in the Hugging Face cache"):
        load_causal_lm("no-such-org/no-such-model", load_settings())
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="has no config.json"):
        load_causal_lm(str(tmp_path / "empty"), load_settings())
