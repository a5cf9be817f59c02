"""ONNX models uploaded from the dashboard: checked before anything is kept (size, never a pickle, a valid graph that
runs), kept under the data directory by content, and in the store so a worker on another machine can fetch them."""
from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

from core import model_files
from core.errors import InferScopeError, ModelError
from core.models.onnx_file import validate as validate_onnx
from core.settings import Settings
from core.store import RunStore

MAX_UPLOAD_BYTES = 200 * 1024 ** 2
# How pickles (protocol 2+) and torch.save zip archives begin; an ONNX protobuf never starts so.
PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05", b"PK")


def save_upload(settings: Settings, store: RunStore, filename: str, data: bytes) -> Path:
    """Keep an uploaded ONNX model under the data directory with a generated name, validated.

    The user's file name is never used as a path; nothing is kept when validation fails.
    """
    from core.models.onnx_file import smoke_test

    if len(data) > MAX_UPLOAD_BYTES:
        raise InferScopeError(f"{Path(filename).name} is {len(data) / 2**20:.0f} MB; the upload limit is "
                              f"{MAX_UPLOAD_BYTES // 2**20} MB — pass larger models by path on the CLI")
    if data[:2] in PICKLE_MAGIC:
        raise ModelError(f"{Path(filename).name} looks like a PyTorch checkpoint or pickle; uploads are never "
                         "unpickled (that would run code from the file) — export the model to ONNX "
                         "(torch.onnx.export) and upload the .onnx file")
    folder = settings.home / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    checking = folder / f"{uuid.uuid4().hex}.part"
    checking.write_bytes(data)
    try:
        _, summary = validate_onnx(checking)
        smoke_test(data, summary, checking)
    except InferScopeError as exc:
        checking.unlink(missing_ok=True)
        raise type(exc)(str(exc).replace(str(checking), Path(filename).name)) from None
    sha256 = hashlib.sha256(data).hexdigest()
    path = model_files.cache_path(settings, sha256)  # named by content: the same bytes are kept once
    checking.replace(path)
    store.put_upload(sha256, Path(filename).name, data)  # so a worker on another machine can fetch it
    uploaded_at = datetime.now(UTC).isoformat(timespec="microseconds")
    (folder / f"{path.stem}.json").write_text(json.dumps({"original_name": Path(filename).name,
                                                          "uploaded_at": uploaded_at}))
    return path

def list_uploads(settings: Settings, store: RunStore) -> list[dict[str, str]]:
    """Uploaded models, newest first: generated path, the name the user gave and the upload time (UTC, ISO).

    Uploads kept before the time was recorded take their file's modification time.
    """
    folder = settings.home / "uploads"
    out, here = [], {meta.stem for meta in folder.glob("*.json")} if folder.is_dir() else set()
    for upload in store.uploads():  # a teammate's upload: fetched once to this machine
        if upload.sha256 not in here:
            model_files.local_copy(store, settings, upload.sha256)
            uploaded_at = upload.uploaded_at.isoformat(timespec="microseconds")
            (folder / f"{upload.sha256}.json").write_text(json.dumps({"original_name": upload.name,
                                                                      "uploaded_at": uploaded_at}))
    for meta in folder.glob("*.json") if folder.is_dir() else []:
        model = meta.with_suffix(".onnx")
        if model.is_file():
            record = json.loads(meta.read_text())
            uploaded_at = record.get("uploaded_at") or datetime.fromtimestamp(
                model.stat().st_mtime, UTC).isoformat(timespec="microseconds")
            out.append({"path": str(model), "name": record["original_name"], "uploaded_at": uploaded_at})
    return sorted(out, key=lambda u: (u["uploaded_at"], u["path"]), reverse=True)
