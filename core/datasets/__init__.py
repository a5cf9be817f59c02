"""Dataset registry: every dataset source registers itself here by name."""
from __future__ import annotations

from pathlib import PurePath

from core.datasets import fashion_mnist, imagenet_folder, imagenette, synthetic
from core.datasets.base import DatasetEntry, LoadedDataset
from core.errors import DataError
from core.inputs import InputSpec
from core.options import split_spec
from core.registry import Registry
from core.settings import Settings

DATASETS: Registry[DatasetEntry] = Registry("dataset")
for _module in (fashion_mnist, imagenet_folder, imagenette, synthetic):
    DATASETS.register(_module.ENTRY.name, _module.ENTRY)


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


def load_dataset(spec: str, settings: Settings, input_spec: InputSpec) -> LoadedDataset:
    """Resolve and load a dataset spec for a model with `input_spec`."""
    entry, location = parse_dataset(spec)
    return entry.load(location, settings, input_spec)


__all__ = ["DATASETS", "DatasetEntry", "LoadedDataset", "parse_dataset", "load_dataset"]
