"""Imagenette (10 easy ImageNet classes) via torchvision's download, labelled with ImageNet-1k indices."""
from __future__ import annotations

from pathlib import Path

from core.datasets.base import DatasetEntry, LoadedDataset
from core.datasets.imagenet_folder import folder_dataset
from core.downloads import network_timeout
from core.errors import DataError
from core.inputs import InputSpec
from core.settings import Settings

ARCHIVE_DIR = "imagenette2-320"  # torchvision's folder for size="320px"


def load(location: str | None, settings: Settings, spec: InputSpec) -> LoadedDataset:
    root = Path(location).expanduser() if location else settings.datasets_dir
    val = root / ARCHIVE_DIR / "val"
    if not val.is_dir():
        if settings.offline:
            raise DataError(f"Imagenette not found at {val} and downloads are off; download "
                            f"{ARCHIVE_DIR}.tgz on a connected machine and unpack it into {root}")
        from torchvision.datasets import Imagenette

        root.mkdir(parents=True, exist_ok=True)
        try:
            with network_timeout():
                Imagenette(str(root), split="val", size="320px", download=True)
        except Exception as exc:  # network failures come in many types
            raise DataError(f"Imagenette not found at {val} and the download failed ({exc}); download "
                            f"{ARCHIVE_DIR}.tgz on a connected machine and unpack it into {root}") from None
    return folder_dataset("imagenette", root, val)


ENTRY = DatasetEntry(
    name="imagenette", description="Imagenette 320px validation split (10 ImageNet classes; downloaded when online)",
    needs_location=False, label_space="imagenet-1k", load=load,
    location_help="optional root holding imagenette2-320/", optional_location=True)
