"""A folder of ImageNet class folders named by WordNet id (n01440764, ...), e.g. your own val set."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.datasets.base import DatasetEntry, LoadedDataset
from core.errors import DataError
from core.inputs import InputSpec
from core.settings import Settings

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff"}
_WNID = re.compile(r"^n\d{8}$")
MAX_NAMED = 5  # undecodable images named in one message


@functools.lru_cache(maxsize=1)
def imagenet_wnids() -> tuple[str, ...]:
    """The 1000 ImageNet-1k WordNet ids in class-index order (shipped with timm)."""
    from timm.data import ImageNetInfo

    return tuple(ImageNetInfo().label_names())


@functools.lru_cache(maxsize=1)
def imagenet_class_names() -> tuple[str, ...]:
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    return tuple(info.index_to_description(i) for i in range(1000))


@dataclass
class FileSplit:
    """Images on disk, decoded on demand."""

    name: str
    paths: list[Path]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.paths)

    def images(self, indices: np.ndarray) -> list[np.ndarray]:
        from PIL import Image, UnidentifiedImageError

        out = []
        for i in np.asarray(indices):
            path = self.paths[int(i)]
            try:
                with Image.open(path) as image:
                    out.append(np.asarray(image.convert("RGB")))
            except (OSError, UnidentifiedImageError, ValueError) as exc:
                raise self._undecodable(path, exc) from None
        return out

    def _undecodable(self, first: Path, exc: Exception) -> DataError:
        """One error naming every image of the split that does not open (up to a few), and their count."""
        from PIL import Image

        bad = [first]
        for path in self.paths:
            if path == first:
                continue
            try:
                with Image.open(path) as image:
                    image.verify()
            except Exception:  # any failure to open or verify means the file is unusable
                bad.append(path)
        shown = ", ".join(str(p) for p in bad[:MAX_NAMED]) + (f" and {len(bad) - MAX_NAMED} more"
                                                              if len(bad) > MAX_NAMED else "")
        return DataError(f"{len(bad)} image(s) cannot be decoded ({first.name}: {exc}): {shown}; remove or replace "
                         "them")


def scan(folder: Path, split_name: str) -> FileSplit:
    """Index `folder`/<wnid>/<image> files with ImageNet-1k labels, or explain what is wrong."""
    if not folder.is_dir():
        raise DataError(f"dataset folder {folder} does not exist; give a folder of class folders named by "
                        "WordNet id, e.g. imagenet-folder:/data/val")
    index = {wnid: i for i, wnid in enumerate(imagenet_wnids())}
    class_dirs = sorted(p for p in folder.iterdir() if p.is_dir())
    unknown = [p.name for p in class_dirs if p.name not in index]
    if not class_dirs:
        raise DataError(f"{folder} holds no class folders; put each class's images in a folder named by its "
                        f"WordNet id (e.g. {folder}/n01440764/img.jpg)")
    if unknown:
        shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        hint = "" if all(_WNID.match(n) for n in unknown) else " (names must look like n01440764)"
        raise DataError(f"{len(unknown)} class folder(s) in {folder} match no ImageNet-1k WordNet id: {shown}{hint}; "
                        "rename or remove them")
    paths, labels = [], []
    for class_dir in class_dirs:
        for path in sorted(class_dir.rglob("*")):
            if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                paths.append(path)
                labels.append(index[class_dir.name])
    if not paths:
        raise DataError(f"no images found under {folder} (looked for {', '.join(sorted(IMAGE_SUFFIXES))} files "
                        "inside the class folders)")
    return FileSplit(split_name, paths, np.asarray(labels, dtype=np.int64))


def folder_dataset(name: str, location: Path, folder: Path) -> LoadedDataset:
    """An ImageNet-labelled dataset from one folder; subset and calibration are drawn from it disjointly."""
    split = scan(folder, "val")
    return LoadedDataset(name, str(location), "imagenet-1k", imagenet_class_names(), evaluation=split,
                         calibration=split)


def load(location: str | None, settings: Settings, spec: InputSpec) -> LoadedDataset:
    if not location:
        raise DataError("imagenet-folder needs a location: --dataset imagenet-folder:/path/to/val")
    folder = Path(location).expanduser().resolve()
    return folder_dataset("imagenet-folder", folder, folder)


ENTRY = DatasetEntry(
    name="imagenet-folder", description="your own ImageNet-style folder: one folder per WordNet id, mapped to ImageNet-1k",
    needs_location=True, label_space="imagenet-1k", load=load,
    location_help="folder of class folders named like n01440764")
