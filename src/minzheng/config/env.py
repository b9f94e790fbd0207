"""The only module that reads ``os.environ``.

Every setting that can differ between a laptop, CI and a production district is read
here once, typed, with a documented default.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[3]
VAR_DIR = Path(os.environ.get("MINZHENG_VAR_DIR", BASE_DIR / "var"))


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _local_secret(filename: str) -> str:
    """A per-installation secret kept in ``var/`` for development and first runs.

    Production sets the corresponding environment variable instead; the file is never
    committed (``var/`` is ignored) and is created with owner-only permissions.
    """
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / filename
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG: bool = _bool("MINZHENG_DEBUG", False)
DATABASE_URL: str = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'minzheng.sqlite3'}")
SECRET_KEY: str = os.environ.get("MINZHENG_SECRET_KEY") or _local_secret("secret_key")
# Key for encrypting ID numbers at rest and, separately, for their keyed look-up hash.
FIELD_KEY: str = os.environ.get("MINZHENG_FIELD_KEY") or _local_secret("field_key")
LOOKUP_KEY: str = os.environ.get("MINZHENG_LOOKUP_KEY") or _local_secret("lookup_key")
ALLOWED_HOSTS: list[str] = [
    h.strip()
    for h in os.environ.get("MINZHENG_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS: list[str] = [
    o.strip() for o in os.environ.get("MINZHENG_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]
MEDIA_ROOT: Path = Path(os.environ.get("MINZHENG_MEDIA_ROOT", VAR_DIR / "media"))
MAX_UPLOAD_MB: int = int(os.environ.get("MINZHENG_MAX_UPLOAD_MB", "20"))
LOG_LEVEL: str = os.environ.get("MINZHENG_LOG_LEVEL", "INFO")
SECURE_COOKIES: bool = _bool("MINZHENG_SECURE_COOKIES", False)
