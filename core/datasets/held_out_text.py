"""Running text a language model is scored and prompted on, without labels: BBC News' held-out articles (offline;
the evaluation split `core.datasets.bbc_news` defines, so the offline default language model, trained on its train
split, never saw them) and WikiText-2's test set (one Parquet file from the Hugging Face hub, kept in its cache; a
placed file is read offline). A subset of a run is the texts scored for perplexity; prompts are their first tokens."""
from __future__ import annotations

import re
from pathlib import Path

from core.datasets import bbc_news
from core.datasets.base import DatasetEntry, LoadedDataset
from core.datasets.hub_text import HubTextSet, fetch
from core.datasets.text import TextSplit
from core.errors import DataError
from core.settings import Settings

TASK = "text-generation"
WIKITEXT = HubTextSet("wikitext-2", "Salesforce/wikitext", "wikitext-2-raw-v1/test-00000-of-00001.parquet", "text",
                      (), "WikiText-2 test: 62 Wikipedia articles as running text (from the Hugging Face hub)")
ARTICLE_HEADING = re.compile(r"^ = [^=].* = $")


def _unlabelled(name: str, location: str | None, texts: list[str], notes: list[str]) -> LoadedDataset:
    split = TextSplit(name, texts, None)
    return LoadedDataset(name, location, None, (), evaluation=split, calibration=split, notes=notes)


def load_bbc_articles(location: str | None, settings: Settings, spec: object = None) -> LoadedDataset:
    """BBC News' evaluation split as running text (labels dropped)."""
    held_out = bbc_news.ENTRIES[0].load(location, settings, None)
    split = held_out.evaluation
    texts = split.texts(range(len(split)))
    return _unlabelled("bbc-news-articles", held_out.location, texts,
                       [f"{len(texts)} BBC News articles held out of the offline language model's training"])


def wikitext_articles(lines: list[str]) -> list[str]:
    """WikiText's lines joined into articles, one per top-level heading (' = Title = ')."""
    articles: list[list[str]] = []
    for line in lines:
        if ARTICLE_HEADING.match(line.rstrip("\n")):
            articles.append([])
        if articles and line.strip():
            articles[-1].append(line.strip())
    return [" ".join(article) for article in articles if len(article) > 1]


def load_wikitext(location: str | None, settings: Settings, spec: object = None) -> LoadedDataset:
    """WikiText-2's raw test set, its lines joined into articles."""
    import pyarrow.parquet as pq

    cache_dir = str(Path(location).expanduser()) if location else None
    path = fetch(WIKITEXT, settings, cache_dir)
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a truncated or foreign file
        raise DataError(f"{path} is not a readable Parquet file ({exc}); delete it so it is downloaded again") from None
    if "text" not in table.column_names:
        raise DataError(f"{path} has no 'text' column (it has {', '.join(table.column_names)}); it is not WikiText-2")
    articles = wikitext_articles([str(line) for line in table.column("text").to_pylist()])
    if not articles:
        raise DataError(f"{path} holds no article (no ' = Title = ' heading); it is not WikiText-2's raw text")
    return _unlabelled("wikitext-2", cache_dir, articles,
                       [f"wikitext-2: {len(articles)} articles from huggingface.co/datasets/{WIKITEXT.repo} ({path})"])


ENTRIES = (
    DatasetEntry(name="bbc-news-articles", description="BBC News: 419 held-out articles as running text (never "
                 "trained on by the offline language model)", needs_location=False, label_space=None,
                 load=load_bbc_articles, task=TASK, location_help="optional folder of the five topic folders"),
    DatasetEntry(name="wikitext-2", description=WIKITEXT.description, needs_location=False, label_space=None,
                 load=load_wikitext, task=TASK, optional_location=True,
                 location_help="optional Hugging Face hub cache folder (default: the usual Hugging Face cache)"),
)
