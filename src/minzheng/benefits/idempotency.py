"""``Idempotency-Key`` for the POSTs that create payroll runs or payments.

A client that did not hear the answer (a timeout, a dropped connection) sends the same
request again with the same key and gets the first answer back, status and body, with
nothing done twice. The same key with a different request is refused (422): a key
names one request. Keys are per user.

The record is inserted before the work, inside the same transaction: a concurrent
repeat waits on the key's unique index and, once the first commits, reads its answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction

from minzheng.core.errors import ApplicationError
from minzheng.core.text import has_control_characters

from .errors import BenefitsErrorCode as Code
from .models import IdempotencyRecord

if TYPE_CHECKING:
    from minzheng.accounts.models import User

HEADER = "Idempotency-Key"


def _hash(endpoint: str, payload: Any) -> str:
    text = json.dumps([endpoint, payload], sort_keys=True, cls=DjangoJSONEncoder)
    return hashlib.sha256(text.encode()).hexdigest()


def _check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > 100 or has_control_characters(key):
        raise ApplicationError(Code.IDEMPOTENCY_KEY, "Idempotency-Key 应为1至100个可见字符",
                               {"header": HEADER}, status=422)  # fmt: skip
    return key


def _replay(record: IdempotencyRecord, digest: str) -> tuple[int, dict[str, Any]]:
    if record.request_hash != digest:
        raise ApplicationError(
            Code.IDEMPOTENCY_REUSED, "该 Idempotency-Key 已用于另一个请求，请换一个新的键",
            {"header": HEADER}, status=422,
        )  # fmt: skip
    return record.status, record.body


def idempotent(
    actor: User,
    key: str | None,
    endpoint: str,
    payload: Any,
    work: Callable[[], tuple[int, dict[str, Any]]],
) -> tuple[int, dict[str, Any]]:
    """Run ``work`` once per (actor, key); without a key, just run it."""
    if key is None:
        return work()
    key = _check_key(key)
    digest = _hash(endpoint, payload)
    found = IdempotencyRecord.objects.filter(user=actor, key=key).first()
    if found is not None:
        return _replay(found, digest)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                user=actor, key=key, endpoint=endpoint, request_hash=digest, status=0, body={}
            )
            status, body = work()
            safe = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
            IdempotencyRecord.objects.filter(pk=record.pk).update(status=status, body=safe)
            return status, body
    except IntegrityError:
        # a concurrent request with the same key committed first
        first = IdempotencyRecord.objects.filter(user=actor, key=key).first()
        if first is None:
            raise
        return _replay(first, digest)
