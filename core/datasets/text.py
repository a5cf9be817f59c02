"""Labelled texts: a split held in memory, and your own texts read from a folder of class folders or from one
CSV or JSONL file — checked whole before anything is measured, every bad file or row named."""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.datasets.base import DatasetEntry, LoadedDataset
from core.errors import DataError
from core.settings import Settings

MAX_NAMED = 5                      # bad files or rows named in one message
TEXT_COLUMNS = ("text", "sentence", "content", "article", "document")
LABEL_COLUMNS = ("label", "labels", "category", "topic", "class")
TABLE_SUFFIXES = {".csv": "CSV", ".jsonl": "JSONL", ".json": "JSONL"}


@dataclass
class TextSplit:
    """One split of texts, addressable by index, with labels (None when unlabelled)."""

    name: str
    items: list[str]
    labels: np.ndarray | None
    item = "text"  # what one item is called in messages

    def __len__(self) -> int:
        return len(self.items)

    def texts(self, indices: np.ndarray) -> list[str]:
        """The texts at `indices`, in that order."""
        return [self.items[int(i)] for i in np.asarray(indices)]


@dataclass(frozen=True)
class LabelledTexts:
    """Texts read from one place, with their labels as indices into `class_names`."""

    texts: list[str]
    labels: np.ndarray
    class_names: tuple[str, ...]


def _named(items: list[str]) -> str:
    return ", ".join(items[:MAX_NAMED]) + (f" and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else "")


def _labelled(texts: list[str], names: list[str], where: str) -> LabelledTexts:
    """Class names sorted (numbers numerically), labels as their indices; refused with fewer than two classes."""
    distinct = sorted(set(names), key=lambda n: (0, int(n), n) if n.lstrip("-").isdigit() else (1, 0, n))
    if len(distinct) < 2:
        only = f"only the class {distinct[0]!r}" if distinct else "no class at all"
        raise DataError(f"{where} holds {only}; a classifier needs at least two classes to be scored")
    index = {name: i for i, name in enumerate(distinct)}
    return LabelledTexts(texts, np.asarray([index[n] for n in names], dtype=np.int64), tuple(distinct))


def _bad_byte(raw: bytes) -> str | None:
    """Where `raw` stops being UTF-8, in words; None when it is UTF-8."""
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return f"undecodable byte 0x{raw[exc.start]:02x} at offset {exc.start}"
    return None


def decode(raw: bytes, where: str) -> str:
    """UTF-8 text (a byte-order mark dropped), or an error naming the place and the first bad byte."""
    bad = _bad_byte(raw)
    if bad:
        raise DataError(f"{where} is not UTF-8 text ({bad}); save it as UTF-8")
    return raw.decode("utf-8-sig")


def read_text_folder(folder: Path) -> LabelledTexts:
    """`folder/<class>/<anything>.txt`, one text per file; the class folder's name is the label."""
    if not folder.is_dir():
        raise DataError(f"dataset folder {folder} does not exist; give a folder holding one folder of .txt files per "
                        "class, e.g. text-folder:/data/reviews (with reviews/positive/001.txt, ...)")
    texts, names, empty, undecodable = [], [], [], []
    for class_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        for path in sorted(class_dir.rglob("*.txt")):
            raw = path.read_bytes()
            bad = _bad_byte(raw)
            if bad:
                undecodable.append(f"{path} ({bad})")
                continue
            text = raw.decode("utf-8-sig")
            if not text.strip():
                empty.append(str(path))
                continue
            texts.append(text)
            names.append(class_dir.name)
    if undecodable:
        raise DataError(f"{len(undecodable)} file(s) under {folder} are not UTF-8 text: {_named(undecodable)}; "
                        "save them as UTF-8 or remove them")
    if empty:
        raise DataError(f"{len(empty)} file(s) under {folder} hold no text: {_named(empty)}; remove them")
    if not texts:
        raise DataError(f"no .txt files found in the class folders of {folder}; put each class's texts in a folder "
                        f"named after the class (e.g. {folder}/positive/001.txt)")
    return _labelled(texts, names, str(folder))


def _column(columns: list[str], wanted: tuple[str, ...], what: str, path: Path) -> str:
    lowered = {c.strip().lower(): c for c in columns}
    for name in wanted:
        if name in lowered:
            return lowered[name]
    raise DataError(f"{path} has no {what} column (looked for {', '.join(wanted)}; it has "
                    f"{', '.join(repr(c) for c in columns) or 'none'}); rename its {what} column to {wanted[0]!r}")


def _rows(path: Path) -> tuple[list[str], list[tuple[int, dict]]]:
    """The file's columns and its rows with their line numbers (the header is line 1 of a CSV)."""
    text = decode(path.read_bytes(), str(path))
    if TABLE_SUFFIXES[path.suffix.lower()] == "CSV":
        reader = csv.DictReader(text.splitlines())
        rows = [(number, row) for number, row in enumerate(reader, start=2)]
        return list(reader.fieldnames or []), rows
    rows, columns = [], {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path} line {number} is not JSON ({exc.msg}); a JSONL file holds one JSON object per "
                            "line") from None
        if not isinstance(row, dict):
            raise DataError(f"{path} line {number} is a JSON {type(row).__name__}, not an object with text and label")
        columns.update(dict.fromkeys(row))
        rows.append((number, row))
    return list(columns), rows


def read_text_table(path: Path) -> LabelledTexts:
    """A CSV (with a header) or JSONL file of texts and labels; the columns are found by their usual names."""
    if not path.is_file():
        raise DataError(f"dataset file {path} does not exist; give a CSV or JSONL file with text and label columns")
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise DataError(f"{path} is neither CSV nor JSONL; give a .csv file with a header, or a .jsonl file")
    columns, rows = _rows(path)
    if not rows:
        raise DataError(f"{path} holds no rows; it needs one text and label per row")
    text_column = _column(columns, TEXT_COLUMNS, "text", path)
    label_column = _column(columns, LABEL_COLUMNS, "label", path)
    texts, names, empty, unlabelled = [], [], [], []
    for number, row in rows:
        text, label = row.get(text_column), row.get(label_column)
        if label is None or str(label).strip() == "":
            unlabelled.append(f"line {number}")
        elif not isinstance(text, str) or not text.strip():
            empty.append(f"line {number}")
        else:
            texts.append(text)
            names.append(str(label).strip())
    if empty:
        raise DataError(f"{len(empty)} row(s) of {path} have an empty {text_column!r}: {_named(empty)}; fill or "
                        "remove them")
    if unlabelled:
        raise DataError(f"{len(unlabelled)} row(s) of {path} have no {label_column!r}: {_named(unlabelled)}; "
                        "label or remove them")
    return _labelled(texts, names, str(path))


def read_user_texts(location: Path) -> LabelledTexts:
    """A folder of class folders, or a CSV/JSONL file."""
    return read_text_folder(location) if location.is_dir() else read_text_table(location)


def load(location: str | None, settings: Settings, spec: object = None) -> LoadedDataset:
    """Your own labelled texts, read and checked whole; the subset and calibration texts are drawn from them
    disjointly. Scored as the model's classes in the order of the sorted class names."""
    if not location:
        raise DataError("texts needs a location: --dataset texts:/path/to/folder (one folder of .txt files per "
                        "class) or texts:/path/to/file.csv (or .jsonl) with text and label columns")
    path = Path(location).expanduser().resolve()
    data = read_user_texts(path)
    split = TextSplit("texts", data.texts, data.labels)
    return LoadedDataset("texts", str(path), f"custom-{len(data.class_names)}", data.class_names, evaluation=split,
                         calibration=split)


ENTRY = DatasetEntry(
    name="texts", description="your own labelled texts: a folder of class folders of .txt files, or a CSV/JSONL file "
    "with text and label columns", needs_location=True, label_space=None, load=load, task="text-classification",
    location_help="folder of class folders of .txt files, or a .csv/.jsonl file with text and label columns")
