"""Encryption at rest and keyed look-up hashes for sensitive identifiers."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet
from django.conf import settings


@lru_cache(maxsize=4)
def _fernet(key_material: str) -> Fernet:
    key = base64.urlsafe_b64encode(hashlib.sha256(key_material.encode()).digest())
    return Fernet(key)


def encrypt(value: str) -> str:
    return _fernet(settings.FIELD_KEY).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet(settings.FIELD_KEY).decrypt(token.encode()).decode()


def lookup_hash(value: str) -> str:
    """HMAC-SHA256 of the normalised value: equal inputs give equal hashes, nothing else."""
    return hmac.new(settings.LOOKUP_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()
