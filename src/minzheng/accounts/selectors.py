from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from minzheng.accounts import access
from minzheng.accounts.models import AccessLog
from minzheng.core.text import clean_query_text

if TYPE_CHECKING:
    from minzheng.accounts.models import User


def access_log_search(
    actor: User,
    *,
    username: str | None = None,
    person_id: int | None = None,
    household_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AccessLog]:
    """Reads of persons' files within the auditor's jurisdiction, newest first."""
    qs = access.access_logs_visible(actor).select_related("actor", "person", "division")
    username = clean_query_text(username, "username")
    if username:
        qs = qs.filter(actor__username=username)
    if person_id:
        qs = qs.filter(person_id=person_id)
    if household_id:
        qs = qs.filter(household_id=household_id)
    if since:
        qs = qs.filter(at__gte=since)
    if until:
        qs = qs.filter(at__lt=until)
    return qs.order_by("-at", "-id")


def access_log_row(row: AccessLog) -> dict[str, Any]:
    return {
        "id": row.pk,
        "at": row.at,
        "actor": row.actor.username,
        "action": row.action,
        "reason": row.reason,
        "channel": row.channel,
        "person_id": row.person_id,
        "person": str(row.person) if row.person else "",
        "household_id": row.household_id,
        "division": row.division.name,
    }
