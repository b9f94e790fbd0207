"""Attached documents: checked by content, stored under MEDIA_ROOT by a random key.

The file name a user gives is kept only as a display name, cleaned of paths and
control characters; it never becomes part of a path on disk. The type is decided by
the file's first bytes (PDF, JPEG, PNG), and must agree with the name's extension.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from minzheng.applications.errors import ApplicationErrorCode as Code
from minzheng.core.errors import ApplicationError

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
TYPES: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "application/pdf": (b"%PDF-", (".pdf",)),
    "image/jpeg": (b"\xff\xd8\xff", (".jpg", ".jpeg")),
    "image/png": (b"\x89PNG\r\n\x1a\n", (".png",)),
}


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content_type: str
    size: int
    sha256: str
    content: bytes


def clean_name(raw: str) -> str:
    """A display name: last path component, no control or reserved characters."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r'[<>:"|?*\x00]', "_", name).strip().lstrip(".")
    if len(name) > 100:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 100 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 8 else name[:100]
    return name or "未命名"


def check(raw_name: str, content: bytes) -> CheckedFile:
    """Validate an upload; raise a 422 naming what is wrong."""
    name = clean_name(raw_name)
    if not content:
        raise ApplicationError(Code.DOCUMENT_EMPTY, "文件为空", {"field": "file"}, status=422)
    if len(content) > MAX_DOCUMENT_BYTES:
        raise ApplicationError(
            Code.DOCUMENT_SIZE,
            f"文件过大：{len(content) / 1024 / 1024:.1f} MB，单个文件不超过 {MAX_DOCUMENT_BYTES // 1024 // 1024} MB",
            {"field": "file", "size": len(content), "max": MAX_DOCUMENT_BYTES},
            status=413,
        )
    ext = Path(name).suffix.lower()
    for content_type, (magic, extensions) in TYPES.items():
        if content.startswith(magic):
            if ext not in extensions:
                break
            digest = hashlib.sha256(content).hexdigest()
            return CheckedFile(name, content_type, len(content), digest, content)
    raise ApplicationError(
        Code.DOCUMENT_TYPE,
        "只接受 PDF、JPG、PNG 文件，且文件内容须与扩展名一致",
        {"field": "file", "name": name},
        status=415,
    )


def _root() -> Path:
    return Path(settings.MEDIA_ROOT) / "applications"


def store(checked: CheckedFile) -> str:
    """Write the file under a new random key; return the key."""
    ext = TYPES[checked.content_type][1][0]
    key = f"{uuid.uuid4().hex}{ext}"
    path = _root() / key[:2] / key
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(checked.content)
    tmp.replace(path)
    return key


def path_of(key: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}\.(pdf|jpg|png)", key):
        raise ValueError("bad storage key")
    return _root() / key[:2] / key


def discard(key: str) -> None:
    path_of(key).unlink(missing_ok=True)
