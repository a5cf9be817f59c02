"""ONNX model files that travel through the store: kept by their SHA-256, fetched and cached by the worker.

A run of an ONNX file records the SHA-256 of its bytes (`model_sha256`) and the api keeps those bytes in
the store. A worker whose machine lacks the file — another machine, or another data directory — takes
them from the store once into `<data dir>/uploads/<sha256>.onnx`, checks the hash, and measures that
copy. The run never silently measures other bytes than those submitted: a local file that changed since
is passed over for the stored copy.
"""
from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import replace
from pathlib import Path

from core.errors import ModelError, NotFoundError, StoreError
from core.settings import Settings
from core.store import RunRecord, RunStore


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes. Pages plan on every rerun: a file unchanged since (same size and
    modification time) is not read again."""
    stat = path.stat()
    return _sha256(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(2 ** 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_path(settings: Settings, sha256: str) -> Path:
    return settings.home / "uploads" / f"{sha256}.onnx"


def keep_in_store(store: RunStore, path: Path, sha256: str, name: str) -> None:
    """Put an ONNX file's bytes in the store unless they are there already."""
    if not store.has_upload(sha256):
        store.put_upload(sha256, name, path.read_bytes())


def local_copy(store: RunStore, settings: Settings, sha256: str) -> Path:
    """This machine's copy of the stored model `sha256`, fetched from the store the first time."""
    path = cache_path(settings, sha256)
    if path.is_file() and file_sha256(path) == sha256:
        return path
    try:
        data = store.upload_data(sha256)
    except (NotFoundError, StoreError) as exc:
        raise ModelError(f"the ONNX model (SHA-256 {sha256[:12]}…) is neither on this machine nor in the run store: "
                         f"{exc}; upload it again, or copy the file to this machine") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ModelError(f"the run store's copy of the ONNX model {sha256[:12]}… does not match its SHA-256; "
                         "upload the model again")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.part")
    partial.write_bytes(data)
    partial.replace(path)  # atomic: another worker of this data directory never reads half a file
    return path


def localized(run: RunRecord, settings: Settings) -> RunRecord:
    """`run` with its model pointing at bytes on this machine identical to those submitted."""
    if not run.model_sha256:
        return run
    here = Path(run.model)
    if here.is_file() and file_sha256(here) == run.model_sha256:
        return run
    store = RunStore(settings.db_url, settings.store_retry_s)
    return replace(run, model=str(local_copy(store, settings, run.model_sha256)))
