"""Fashion-MNIST: Debian's package, a folder named by a setting, or torchvision's download."""
from __future__ import annotations

import functools
import gzip
from pathlib import Path

import numpy as np

from core.datasets.base import ArraySplit, DatasetEntry, LoadedDataset
from core.downloads import network_timeout
from core.errors import DataError
from core.inputs import InputSpec
from core.settings import Settings

CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
FILES = {
    "train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte",
}
_MAGIC = {3: 2051, 1: 2049}


def _find(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def has_files(folder: Path) -> bool:
    """True when `folder` holds all four idx files (gzipped or not)."""
    return folder.is_dir() and all(_find(folder, stem) for stem in FILES.values())


def read_idx(path: Path, ndim: int) -> np.ndarray:
    """Parse one idx file (optionally gzipped), checking its header against its size."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read {path}: {exc}; the file is damaged — reinstall or re-download it") from None
    header = 4 + 4 * ndim
    if len(raw) < header or int.from_bytes(raw[:4], "big") != _MAGIC[ndim]:
        raise DataError(f"{path} is not an idx{ndim} file (bad header); replace it with the original file")
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    if len(raw) - header != int(np.prod(dims)):
        raise DataError(f"{path} is truncated: header says {dims}, file holds {len(raw) - header} bytes; "
                        "replace it with the original file")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


@functools.lru_cache(maxsize=4)
def _read_folder(folder: Path, _mtime: float) -> dict[str, np.ndarray]:
    arrays = {key: read_idx(_find(folder, stem), 3 if key.endswith("images") else 1)  # type: ignore[arg-type]
              for key, stem in FILES.items()}
    for split in ("train", "test"):
        if len(arrays[f"{split}_images"]) != len(arrays[f"{split}_labels"]):
            raise DataError(f"{folder}: {split} images and labels differ in count; the files do not belong together")
        if arrays[f"{split}_labels"].max(initial=0) >= len(CLASS_NAMES):
            raise DataError(f"{folder}: {split} labels outside 0-9; these are not Fashion-MNIST labels")
    return arrays


def _download(settings: Settings) -> Path:
    from torchvision.datasets import FashionMNIST

    root = settings.datasets_dir
    root.mkdir(parents=True, exist_ok=True)
    with network_timeout():
        FashionMNIST(str(root), train=True, download=True)
        FashionMNIST(str(root), train=False, download=True)
    return root / "FashionMNIST" / "raw"


def locate(location: str | None, settings: Settings) -> Path:
    """The first folder holding the four files: explicit path, setting, Debian, earlier download."""
    if location:
        folder = Path(location).expanduser()
        if not has_files(folder):
            raise DataError(f"{folder} does not hold the four Fashion-MNIST idx files ({', '.join(FILES.values())}, "
                            "optionally .gz)")
        return folder
    candidates = [settings.fashion_mnist_dir, settings.system_fashion_mnist_dir,
                  settings.datasets_dir / "FashionMNIST" / "raw"]
    for folder in candidates:
        if folder is not None and has_files(folder):
            return folder
    if not settings.offline:
        try:
            return _download(settings)
        except Exception as exc:  # network errors come in many types; all mean "no download"
            reason = f"download failed: {exc}"
        else:  # pragma: no cover - the download returned without files
            reason = "download produced no files"
    else:
        reason = "downloads are off (INFERSCOPE_OFFLINE=1)"
    raise DataError(
        "Fashion-MNIST not found. Any one of these works:\n"
        f"  1. as root: apt-get install dataset-fashion-mnist  (puts the files in {settings.system_fashion_mnist_dir})\n"
        "  2. set INFERSCOPE_FASHION_MNIST_DIR to a folder holding train-images-idx3-ubyte.gz, "
        "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz\n"
        f"  3. connect to the internet so torchvision can download it into {settings.datasets_dir} ({reason})")


def load(location: str | None, settings: Settings, spec: InputSpec) -> LoadedDataset:
    folder = locate(location, settings)
    arrays = _read_folder(folder, max(p.stat().st_mtime for p in folder.iterdir()))
    test = ArraySplit("test", arrays["test_images"], arrays["test_labels"].astype(np.int64))
    train = ArraySplit("train", arrays["train_images"], arrays["train_labels"].astype(np.int64))
    return LoadedDataset("fashion-mnist", str(folder), "fashion-mnist", CLASS_NAMES,
                         evaluation=test, calibration=train, train=train)


ENTRY = DatasetEntry(
    name="fashion-mnist", description="Fashion-MNIST: 10 clothing classes, 28x28 grey; subset from test, calibration from train",
    needs_location=False, label_space="fashion-mnist", load=load,
    location_help="optional folder with the four idx files")
