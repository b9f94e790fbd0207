"""Reads of the dashboards: the cached figures of a division in the actor's jurisdiction
(refreshed when missing or old), and the lists behind each figure (drill-down)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import close_old_connections
from django.db.models import QuerySet
from django.utils import timezone

from minzheng.accounts import access
from minzheng.accounts.models import User
from minzheng.applications.models import OPEN_STATES, ApplicationLine, State
from minzheng.benefits.models import Payment
from minzheng.casework.models import DiscoveryItem, ItemStatus
from minzheng.core.errors import ApplicationError, PermissionDenied
from minzheng.core.periods import parse_month
from minzheng.programmes.eligibility import programme_labels
from minzheng.registry.models import Division

from . import aggregates
from .errors import ReportErrorCode as Code

log = logging.getLogger(__name__)

# Figures older than this are refreshed in the background while the page shows them.
STALE_AFTER = timedelta(minutes=30)
# Tests and the CLI refresh inline; the web process refreshes in a thread.
REFRESH_IN_BACKGROUND = True
_refreshing: set[int] = set()
_lock = threading.Lock()

FIGURES = ("recipients", "applications", "overdue", "discovery")


@dataclass
class Dashboard:
    division: Division
    data: dict[str, Any]
    computed_at: datetime
    stale: bool
    breadcrumbs: list[Division]
    children: list[Division]


def ensure_reader(actor: User) -> None:
    if access.report_path(actor) is None:
        raise PermissionDenied(Code.ROLE_FORBIDDEN, "您的角色不能查看统计")


def _refresh_later(division: Division) -> None:
    with _lock:
        if division.pk in _refreshing:
            return
        _refreshing.add(division.pk)

    def work() -> None:
        try:
            aggregates.refresh(division)
        except Exception:
            log.exception("dashboard refresh of %s failed", division.code)
        finally:
            with _lock:
                _refreshing.discard(division.pk)
            close_old_connections()

    threading.Thread(target=work, name=f"dashboard-{division.code}", daemon=True).start()


def dashboard(actor: User, code: str | None = None) -> Dashboard:
    """The dashboard of the actor's division or of one below it (404 elsewhere)."""
    ensure_reader(actor)
    division = access.access_report_division(actor, code)
    found = aggregates.cached(division)
    if found is None:  # the first time: computed now, for this division and below
        aggregates.refresh(division)
        found = aggregates.cached(division)
        assert found is not None
    stale = timezone.now() - found.computed_at > STALE_AFTER
    if stale:
        if REFRESH_IN_BACKGROUND:
            _refresh_later(division)
        else:
            aggregates.refresh(division)
            found = aggregates.cached(division)
            assert found is not None
            stale = False
    own = actor.division
    assert own is not None
    crumbs = [d for d in Division.objects.filter(code__in=_ancestors(division)).order_by("path")
              if d.path.startswith(own.path)]  # fmt: skip
    children = list(Division.objects.filter(parent=division).order_by("code"))
    return Dashboard(division, found.payload, found.computed_at, stale, crumbs, children)


def _ancestors(division: Division) -> list[str]:
    return [c for c in division.path.split("/") if c]


# -- the lists behind the figures ----------------------------------------------------------------


def _month(raw: str | None) -> date | None:
    if not raw:
        return None
    return parse_month(raw, "month", Code.PERIOD_INVALID)


def figure_list(actor: User, *, figure: str, code: str | None = None, programme: str | None = None,
                month: str | None = None, state: str | None = None) -> QuerySet[Any]:  # fmt: skip
    """The records behind one figure of a division's dashboard, in the actor's scope:
    ``recipients`` (payments of a month, by programme), ``applications`` (open lines, by
    step), ``overdue`` (open lines past their due day), ``discovery`` (items by status)."""
    ensure_reader(actor)
    division = access.access_report_division(actor, code)
    if figure not in FIGURES:
        raise ApplicationError(Code.KIND_INVALID, f"未知的统计项：{figure}，可选：{'、'.join(FIGURES)}",
                               {"field": "figure"}, status=422)  # fmt: skip
    if programme and programme not in programme_labels():
        raise ApplicationError(Code.KIND_INVALID, f"未知的救助项目：{programme}", {"field": "programme"},
                               status=422)  # fmt: skip
    path = division.path
    if figure == "recipients":
        qs: QuerySet[Any] = access.payments_visible(actor).filter(
            division_path__startswith=path, kind="regular"
        )
        period = _month(month)
        if period is not None:
            qs = qs.filter(period=period)
        if programme:
            qs = qs.filter(programme=programme)
        return qs.select_related("household", "household__division").order_by(
            "household__number", "programme"
        )
    if figure in ("applications", "overdue"):
        qs = ApplicationLine.objects.filter(
            application__in=access.applications_visible(actor), division_path__startswith=path,
            state__in=OPEN_STATES,
        )  # fmt: skip
        if state:
            if state not in State.values:
                raise ApplicationError(Code.KIND_INVALID, f"未知的办理环节：{state}", {"field": "state"},
                                       status=422)  # fmt: skip
            qs = qs.filter(state=state)
        if figure == "overdue":
            qs = qs.filter(step_due__lt=timezone.localdate())
        if programme:
            qs = qs.filter(programme=programme)
        return qs.select_related("application", "household").order_by("step_due", "pk")
    qs = DiscoveryItem.objects.filter(
        pk__in=access.discovery_items_visible(actor)
        .filter(division_path__startswith=path)
        .values("pk")
    )
    if state:
        if state not in ItemStatus.values:
            raise ApplicationError(Code.KIND_INVALID, f"未知的线索状态：{state}", {"field": "state"},
                                   status=422)  # fmt: skip
        qs = qs.filter(status=state)
    if programme:
        qs = qs.filter(programme=programme)
    return qs.select_related("household").order_by("household__number", "programme")


def row_out(obj: Any) -> dict[str, Any]:
    labels = programme_labels()
    label = labels.get(getattr(obj, "programme", ""), ("",))[0]
    if isinstance(obj, Payment):
        return {"household": obj.household_id, "household_number": obj.household.number,
                "programme": obj.programme, "programme_label": label,
                "month": obj.period.strftime("%Y-%m"), "amount": f"{obj.amount:.2f}",
                "status": obj.status}  # fmt: skip
    if isinstance(obj, ApplicationLine):
        return {"household": obj.household_id, "household_number": obj.household.number,
                "application": obj.application_id, "application_number": obj.application.number,
                "programme": obj.programme, "programme_label": label, "state": obj.state,
                "state_label": obj.get_state_display(), "step_due": obj.step_due.isoformat() if obj.step_due else None}  # fmt: skip
    return {"household": obj.household_id, "household_number": obj.household.number,
            "programme": obj.programme, "programme_label": label, "status": obj.status,
            "amount": f"{obj.amount:.2f}", "found_on": obj.found_on.isoformat()}  # fmt: skip
