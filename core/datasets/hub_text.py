"""Public text benchmarks from the Hugging Face hub: GLUE SST-2 (movie-review sentences, 2 classes) and AG News
(news titles and descriptions, 4 classes). One labelled Parquet file each, fetched into the Hugging Face cache by
`huggingface_hub` when online and read from the cache when not; the `datasets` package is not needed.
Calibration texts are drawn from the same file, disjoint from the evaluated subset."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.datasets.base import DatasetEntry, LoadedDataset
from core.datasets.text import TextSplit
from core.downloads import hub_offline, network_timeout
from core.errors import DataError
from core.settings import Settings


@dataclass(frozen=True)
class HubTextSet:
    """Where one labelled split lies on the hub and how its columns read."""

    name: str
    repo: str
    filename: str             # the Parquet file inside the dataset repository
    text_column: str
    class_names: tuple[str, ...]
    description: str


SETS = (
    HubTextSet("sst2", "nyu-mll/glue", "sst2/validation-00000-of-00001.parquet", "sentence", ("negative", "positive"),
               "GLUE SST-2 validation: 872 movie-review sentences, negative or positive (from the Hugging Face hub)"),
    HubTextSet("ag-news", "fancyzhx/ag_news", "data/test-00000-of-00001.parquet", "text",
               ("World", "Sports", "Business", "Sci/Tech"),
               "AG News test: 7,600 news titles with descriptions in 4 topics (from the Hugging Face hub)"),
)



def fetch(hub: HubTextSet, settings: Settings, cache_dir: str | None = None) -> Path:
    """The split's Parquet file from the Hugging Face cache, downloaded first when online and missing."""
    from huggingface_hub import hf_hub_download

    offline = hub_offline(settings)
    try:
        with network_timeout():
            return Path(hf_hub_download(hub.repo, hub.filename, repo_type="dataset", cache_dir=cache_dir,
                                        local_files_only=offline))
    except Exception as exc:  # offline misses, HTTP errors and dropped connections come in many types
        how = ("downloads are off and it is not in the Hugging Face cache" if offline
               else f"the download failed ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})")
        raise DataError(f"dataset {hub.name} cannot be read: {how}; run it once on a machine with internet (the file "
                        f"is then kept in the Hugging Face cache), or name a hub cache folder that holds "
                        f"huggingface.co/datasets/{hub.repo}: --dataset {hub.name}:/path/to/hub-cache") from None


def read_split(hub: HubTextSet, path: Path) -> tuple[list[str], np.ndarray]:
    """Texts and labels of the Parquet file, refused with the file named when a column or a label is wrong."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a truncated or foreign file
        raise DataError(f"{path} is not a readable Parquet file ({exc}); delete it so it is downloaded again") from None
    missing = [c for c in (hub.text_column, "label") if c not in table.column_names]
    if missing:
        raise DataError(f"{path} has no {' or '.join(repr(c) for c in missing)} column (it has "
                        f"{', '.join(table.column_names)}); it is not the {hub.name} split InferScope expects")
    texts = [str(t) for t in table.column(hub.text_column).to_pylist()]
    labels = np.asarray(table.column("label").to_pylist(), dtype=np.int64)
    outside = np.flatnonzero((labels < 0) | (labels >= len(hub.class_names)))
    if len(outside):
        raise DataError(f"{len(outside)} row(s) of {path} have a label outside 0–{len(hub.class_names) - 1} (first: "
                        f"row {int(outside[0])}, label {int(labels[outside[0]])}); an unlabelled split cannot be "
                        "scored")
    empty = [i for i, text in enumerate(texts) if not text.strip()]
    if empty:
        raise DataError(f"{len(empty)} row(s) of {path} hold no text (first: row {empty[0]})")
    return texts, labels


def _loader(hub: HubTextSet):
    def load(location: str | None, settings: Settings, spec: object = None) -> LoadedDataset:
        cache_dir = str(Path(location).expanduser()) if location else None  # None: the machine's own hub cache
        path = fetch(hub, settings, cache_dir)
        texts, labels = read_split(hub, path)
        split = TextSplit(hub.name, texts, labels)
        note = f"{hub.name}: {len(texts):,} texts from huggingface.co/datasets/{hub.repo} ({path})"
        return LoadedDataset(hub.name, cache_dir, hub.name, hub.class_names, evaluation=split, calibration=split,
                             notes=[note])
    return load


ENTRIES = tuple(
    DatasetEntry(name=hub.name, description=hub.description, needs_location=False, label_space=hub.name,
                 load=_loader(hub), task="text-classification", optional_location=True,
                 location_help="optional Hugging Face hub cache folder (default: the usual Hugging Face cache)")
    for hub in SETS)
