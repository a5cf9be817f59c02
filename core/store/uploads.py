"""ONNX models kept in the store by their SHA-256, so a worker on another machine can fetch them."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.errors import NotFoundError
from core.store.connection import Database, now, shown
from core.store.entities import UploadRecord
from core.store.schema import UploadRow


class UploadQueries(Database):
    def put_upload(self, sha256: str, name: str, data: bytes) -> None:
        """Keep an ONNX model's bytes under their SHA-256 (once: the same bytes again change nothing)."""
        try:
            with self._session() as session:
                if session.get(UploadRow, sha256) is None:
                    session.add(UploadRow(sha256=sha256, name=name[:256], size=len(data), data=data,
                                          uploaded_at=now()))
        except IntegrityError:
            return  # another process stored these very bytes (the key is their hash) between our read and write

    def has_upload(self, sha256: str) -> bool:
        with self._session() as session:
            return session.scalar(select(func.count()).select_from(UploadRow).where(UploadRow.sha256 == sha256)) == 1

    def upload_data(self, sha256: str) -> bytes:
        with self._session() as session:
            data = session.scalar(select(UploadRow.data).where(UploadRow.sha256 == sha256))
        if data is None:
            raise NotFoundError(f"no ONNX model with SHA-256 {sha256} in the run store {shown(self.url)}; "
                                "upload it again")
        return bytes(data)

    def uploads(self) -> list[UploadRecord]:
        """ONNX models in the store, newest first (without their bytes)."""
        with self._session() as session:
            rows = session.execute(select(UploadRow.sha256, UploadRow.name, UploadRow.size, UploadRow.uploaded_at)
                                   .order_by(UploadRow.uploaded_at.desc())).all()
        return [UploadRecord(sha256=r.sha256, name=r.name, size=r.size, uploaded_at=r.uploaded_at) for r in rows]
