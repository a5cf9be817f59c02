"""Dataset registry: every dataset source registers itself here by name."""
from __future__ import annotations

from pathlib import PurePath

from core.datasets import (
    bbc_news,
    fashion_mnist,
    held_out_text,
    hub_text,
    imagenet_folder,
    imagenette,
    synthetic,
    text,
)
from core.datasets.base import DatasetEntry, LoadedDataset
from core.errors import DataError
from core.inputs import InputSpec
from core.options import split_spec
from core.registry import Registry
from core.settings import Settings
from core.tasks import TASKS

DATASETS: Registry[DatasetEntry] = Registry("dataset")
for _entry in (fashion_mnist.ENTRY, imagenet_folder.ENTRY, imagenette.ENTRY, synthetic.ENTRY, *bbc_news.ENTRIES,
               text.ENTRY, *hub_text.ENTRIES,
               *held_out_text.ENTRIES):
    DATASETS.register(_entry.name, _entry)


def datasets_for(task: str) -> list[str]:
    """The datasets whose labels a model of `task` can be scored on, in registry order."""
    return [name for name, entry in DATASETS if entry.task == task]


def check_task(model: str, task: str, entry: DatasetEntry) -> None:
    """Refuse a dataset whose inputs a model of `task` cannot read or whose labels it cannot be scored on."""
    if entry.task != task:
        wanted, held = TASKS.get(task), TASKS.get(entry.task)
        raise DataError(f"model {model} does {wanted.words} and dataset {entry.name} is for {held.words}; pick one of "
                        f"its datasets: {', '.join(datasets_for(task))}")


def parse_dataset(spec: str) -> tuple[DatasetEntry, str | None]:
    """"NAME" or "NAME:PATH" -> (entry, location)."""
    name, location = split_spec(spec)
    entry = DATASETS.get(name)
    if entry.needs_location and not location:
        raise DataError(f"dataset {name} needs a location: --dataset {name}:/path ({entry.location_help})")
    if location and ".." in PurePath(location).parts:
        raise DataError(f"the dataset location {location!r} climbs out of a folder with '..'; give the folder's "
                        "full path instead")
    return entry, location or None


def load_dataset(spec: str, settings: Settings, input_spec: InputSpec | None) -> LoadedDataset:
    """Resolve and load a dataset spec for a model with `input_spec` (None for a text model)."""
    entry, location = parse_dataset(spec)
    return entry.load(location, settings, input_spec)


__all__ = ["DATASETS", "DatasetEntry", "LoadedDataset", "parse_dataset", "load_dataset", "datasets_for", "check_task"]
