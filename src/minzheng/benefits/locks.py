"""Named row locks for money, always taken in one order inside a small atomic block:

    district division → payroll run → entitlements (ascending id) → payments (ascending id)

Money never goes read–decide–write without one of these: a service that changes an
entitlement, a payroll or a payment first takes its lock, then reads, decides and
writes. Taking them in the same order everywhere means two services never wait on
each other in a cycle. On SQLite ``select_for_update`` is a no-op, and SQLite's single
writer serialises the same blocks.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from minzheng.registry.models import Division, DivisionLevel

from .models import Entitlement, Payment, PayrollRun


def _in_atomic() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("benefits locks are taken inside transaction.atomic()")


def lock_payroll_scope(division: Division) -> Division:
    """Serialise payroll creation for overlapping scopes: lock the district's row."""
    _in_atomic()
    codes = division.path.strip("/").split("/")
    district = (
        Division.objects.select_for_update()
        .filter(code__in=codes, level=DivisionLevel.DISTRICT)
        .first()
    )
    return district or Division.objects.select_for_update().get(pk=division.pk)


def lock_payroll(run_id: int) -> PayrollRun:
    _in_atomic()
    return PayrollRun.objects.select_for_update().select_related("division").get(pk=run_id)


def lock_entitlement(entitlement_id: int) -> Entitlement:
    _in_atomic()
    return Entitlement.objects.select_for_update().get(pk=entitlement_id)


def lock_entitlements(ids: Iterable[int]) -> list[Entitlement]:
    _in_atomic()
    return list(
        Entitlement.objects.select_for_update().filter(pk__in=sorted(set(ids))).order_by("pk")
    )


def lock_payments(ids: Iterable[int]) -> list[Payment]:
    _in_atomic()
    return list(Payment.objects.select_for_update().filter(pk__in=sorted(set(ids))).order_by("pk"))
