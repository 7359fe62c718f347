"""Uploaded files kept under ``instance/files/``: the one store the events' materials, the case
bank's attachments and the programmes' agreements use. A file is accepted only when its content
is of an allowed kind (checked by its first bytes, ``elearn.domain.filekinds``, not by its name)
and within the size limit; it is served with a Content-Disposition, ``nosniff`` and the type
recorded here, never a type the browser guesses."""

from __future__ import annotations

import hashlib
import os
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from elearn.domain import filekinds
from elearn.domain.errors import N_, InvalidAnswer, NotFound
from elearn.models import StoredFile

# The kinds the events' materials take by default (media types); the case bank adds images.
DEFAULT_KINDS = ("application/pdf", "image/png", "image/jpeg")
EXTENSIONS = {media: suffix for media, suffix in filekinds.KINDS.values()}
DEFAULT_MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def sniff(*, data: bytes) -> str | None:
    """The media type the bytes are (PDF or an image elearn takes), or None."""
    kind = filekinds.sniff(data[:16])
    return filekinds.media_type(kind) if kind else None


def safe_filename(*, name: str, content_type: str) -> str:
    """A plain name for Content-Disposition: no path, no control characters, the kind's suffix."""
    base = unicodedata.normalize("NFC", os.path.basename(name.replace("\\", "/")))
    base = "".join(c for c in base if c.isprintable() and c not in "\"';")[:150].strip(". ")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return (stem or "file") + EXTENSIONS[content_type]


def folder(*, instance_path: str) -> Path:
    path = Path(instance_path) / "files"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def store(
    *,
    session: Session,
    instance_path: str,
    upload: Upload,
    now: datetime,
    allowed: tuple[str, ...] = DEFAULT_KINDS,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> StoredFile:
    """Keep the file and its row (flushed). Refuses an empty, too large or disallowed file."""
    if not upload.data:
        raise InvalidAnswer(N_("The file is empty."))
    if len(upload.data) > max_bytes:
        raise InvalidAnswer(N_("The file is too large."))
    kind = sniff(data=upload.data)
    if kind is None or kind not in allowed:
        raise InvalidAnswer(N_("Only PDF files and images (PNG, JPEG) can be uploaded."))
    key = secrets.token_hex(16)
    target = folder(instance_path=instance_path) / key
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(upload.data)
    row = StoredFile(
        key=key,
        filename=safe_filename(name=upload.filename, content_type=kind),
        content_type=kind,
        size=len(upload.data),
        sha256=hashlib.sha256(upload.data).hexdigest(),
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def path_of(*, instance_path: str, row: StoredFile) -> Path:
    return folder(instance_path=instance_path) / row.key


def delete(*, session: Session, instance_path: str, row: StoredFile) -> None:
    """Forget a file: its row now, its bytes from disk."""
    session.delete(row)
    session.flush()
    path_of(instance_path=instance_path, row=row).unlink(missing_ok=True)


def read(*, session: Session, instance_path: str, file_id: int) -> tuple[StoredFile, bytes]:
    row = session.get(StoredFile, file_id)
    if row is None:
        raise NotFound(N_("There is no such file."))
    path = folder(instance_path=instance_path) / row.key
    if not path.is_file():
        raise NotFound(N_("There is no such file."))
    return row, path.read_bytes()


def headers(*, row: StoredFile) -> dict[str, str]:
    """Safe headers to serve a stored file: its recorded type, a download name, no sniffing."""
    from urllib.parse import quote

    disposition = "inline" if row.content_type == "application/pdf" else "attachment"
    ascii_name = row.filename.encode("ascii", "replace").decode().replace("?", "_")
    return {
        "Content-Type": row.content_type,
        "Content-Disposition": (
            f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(row.filename)}"
        ),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
    }
