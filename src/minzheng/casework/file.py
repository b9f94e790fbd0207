"""一户一档: everything the system knows about one household, in one timeline.

``household_file`` gathers, newest first, the registry's change history (the household,
its members, including those who since left, and their incomes), applications and their
decisions, home visits, verification reports, payments and entitlement changes, and the
casework of the household (plans, needs, measures, contacts, follow-ups, life events,
proactive discovery, file notes). Each source is one query (two for the registry's
member history), so the number of queries does not grow with the household's history;
each source keeps at most ``SOURCE_CAP`` entries, the newest, and the file says which
sources were cut (``capped``).

Who reads it: staff who read casework (``access.CASE_READERS``) in whose jurisdiction the
household lies. Everyone else, residents included, gets "not found": a resident follows
their own case on the application and entitlement pages, and the file holds staff notes
and the worker's assessments, which are not addressed to the household.

ID numbers appear only masked; the keyed hash of a member's ID number is never shown.
Each read (and each print) is written to the access log for every active member.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from minzheng.accounts import access
from minzheng.accounts.errors import AccessErrorCode
from minzheng.accounts.models import AccessAction
from minzheng.accounts.services import access_log_record
from minzheng.applications.models import HomeVisit, State, Transition
from minzheng.applications.workflow import ACTIONS
from minzheng.benefits.models import EntitlementEvent, PaymentKind, PaymentStatus
from minzheng.casework.errors import CaseErrorCode
from minzheng.casework.models import (
    Contact,
    ContactMode,
    EventKind,
    HouseholdNote,
    ItemStatus,
    Measure,
    MeasureKind,
    MeasureStatus,
    Need,
    NeedDomain,
    PlanOutcome,
    Severity,
    TaskStatus,
)
from minzheng.core.errors import FieldError, NotFound
from minzheng.eldercare.models import (
    Device,
    DeviceKind,
    DeviceStatus,
    Incident,
    IncidentStatus,
    Order,
    OrderStatus,
    Visit,
    VisitMode,
    VisitOutcome,
)
from minzheng.programmes.eligibility import programme_labels
from minzheng.registry import vocab
from minzheng.registry.models import Division, Household, Income, Person
from minzheng.verification.models import VerificationReport

if TYPE_CHECKING:
    from minzheng.accounts.models import User

# The kinds of entry, in the order the filter shows them. ``services``: elderly care
# received by the household's members (service orders, patrol visits, devices installed,
# emergency calls); donations will join it once that app exists.
KINDS: dict[str, str] = {
    "registry": "登记信息变更",
    "application": "申请与审批",
    "visit": "入户调查",
    "verification": "经济状况核对",
    "payment": "资金发放",
    "entitlement": "救助待遇变更",
    "casework": "帮扶与主动服务",
    "note": "工作记录",
    "services": "服务记录",
}
# At most this many entries per kind (the newest); older ones are left out and the file
# names the kinds that were cut.
SOURCE_CAP = 500
# History rows fetched per model: more than the cap, so that the row before the oldest
# shown change (which the change is compared with) is usually at hand.
_HISTORY_FETCH = 2 * SOURCE_CAP

READ_REASON = "查阅一户一档"
PRINT_REASON = "打印一户一档"
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class FileEntry:
    """One line of the timeline. ``all_day`` entries carry a date only (a visit on a day),
    and ``at`` is that day's midnight."""

    at: datetime
    kind: str
    title: str
    detail: str
    link: str | None = None
    all_day: bool = False

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]


@dataclass(frozen=True)
class FileMember:
    """An active member as the file shows them: the masked ID number only."""

    person_id: int
    name: str
    relation: str
    relation_label: str
    sex: str
    sex_label: str
    birth_date: date
    id_number_masked: str


@dataclass
class HouseholdFile:
    household: Household
    members: list[FileMember]
    entries: list[FileEntry]
    counts: dict[str, int]
    kinds: list[str]  # the kinds shown (all when not filtered)
    start: date | None = None
    end: date | None = None
    capped: list[str] = field(default_factory=list)  # kinds that hit SOURCE_CAP


# -- parsing the filters (shared by the page and the API) ---------------------------------------


def parse_kinds(raw: Iterable[str] | None) -> set[str] | None:
    """The kinds asked for, or None for all; an unknown kind is a ``FieldError``."""
    kinds = {k.strip() for k in raw or () if k and k.strip()}
    unknown = sorted(kinds - KINDS.keys())
    if unknown:
        raise FieldError(
            "kind",
            CaseErrorCode.FIELD_INVALID,
            f"不认识的记录类别：{'、'.join(unknown)}（可选：{'、'.join(KINDS)}）",
        )
    return kinds or None


def parse_day(raw: str | None, field_name: str, label: str) -> date | None:
    """A ``YYYY-MM-DD`` date, or None when empty; anything else is a ``FieldError``."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        if not _DAY.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise FieldError(
            field_name, CaseErrorCode.FIELD_INVALID, f"{label}格式应为 YYYY-MM-DD，且须为有效日期"
        ) from None


def check_period(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and start > end:
        raise FieldError("end", CaseErrorCode.PERIOD_INVALID, "截止日期不能早于起始日期")


# -- the selector -------------------------------------------------------------------------------


def household_file(
    actor: User,
    household_id: int,
    *,
    kinds: set[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    channel: str = "web",
    printing: bool = False,
) -> HouseholdFile:
    """The household's file, newest first, filtered by kind and by day (both inclusive).

    Raises ``NotFound`` outside the actor's jurisdiction and for roles that do not read
    casework (residents included), and ``FieldError`` for an unknown kind or a period
    that ends before it starts. The read is logged (``printing``: as an export).
    """
    if kinds is not None:
        parse_kinds(kinds)
    check_period(start, end)
    household = access.access_household_by_id(actor, household_id)
    path = access.case_path(actor)
    if path is None:
        # the same answer as outside the jurisdiction: the file's existence is not revealed
        raise NotFound(AccessErrorCode.HOUSEHOLD_NOT_FOUND, "家庭不存在或不在您的管辖范围内")
    active = list(household.members.filter(state=vocab.PersonState.ACTIVE).order_by("pk"))
    access_log_record(
        actor=actor,
        household=household,
        persons=active,
        action=AccessAction.EXPORT if printing else AccessAction.VIEW,
        reason=PRINT_REASON if printing else READ_REASON,
        channel=channel,
    )
    wanted = [k for k in KINDS if kinds is None or k in kinds]
    ctx = _Context(actor=actor, household=household, path=path, window=_Window(start, end))
    sources: dict[str, Callable[[_Context], list[FileEntry]]] = {
        "registry": _registry,
        "application": _applications,
        "visit": _visits,
        "verification": _verifications,
        "payment": _payments,
        "entitlement": _entitlement_events,
        "casework": _casework,
        "note": _notes,
        "services": _services,
    }
    entries: list[FileEntry] = []
    capped: list[str] = []
    for kind in wanted:
        source = sources.get(kind)
        if source is None:
            continue
        found = sorted(source(ctx), key=lambda e: e.at, reverse=True)
        if len(found) > SOURCE_CAP or ctx.cut.pop(kind, False):
            capped.append(kind)
        entries.extend(found[:SOURCE_CAP])
    entries.sort(key=lambda e: e.at, reverse=True)
    counts = dict.fromkeys(KINDS, 0)
    for e in entries:
        counts[e.kind] += 1
    return HouseholdFile(
        household=household,
        members=[_member(p) for p in active],
        entries=entries,
        counts=counts,
        kinds=wanted,
        start=start,
        end=end,
        capped=capped,
    )


def _member(p: Person) -> FileMember:
    return FileMember(
        person_id=p.pk,
        name=p.name,
        relation=p.relation,
        relation_label=_label(vocab.Relation, p.relation),
        sex=p.sex,
        sex_label=_label(vocab.Sex, p.sex),
        birth_date=p.birth_date,
        id_number_masked=p.id_number_masked,
    )


# -- shared helpers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Window:
    """Inclusive days; datetimes compare in the local time zone."""

    start: date | None
    end: date | None

    def _bound(self, day: date) -> datetime:
        return timezone.make_aware(datetime.combine(day, time.min))

    @property
    def upper(self) -> datetime | None:
        return self._bound(self.end + timedelta(days=1)) if self.end else None

    def moments(self, name: str) -> Q:
        q = Q()
        if self.start is not None:
            q &= Q(**{f"{name}__gte": self._bound(self.start)})
        if self.end is not None:
            q &= Q(**{f"{name}__lt": self.upper})
        return q

    def days(self, name: str) -> Q:
        q = Q()
        if self.start is not None:
            q &= Q(**{f"{name}__gte": self.start})
        if self.end is not None:
            q &= Q(**{f"{name}__lte": self.end})
        return q

    def holds(self, at: datetime | None) -> bool:
        if at is None:
            return False
        day = timezone.localtime(at).date()
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)


@dataclass
class _Context:
    actor: User
    household: Household
    path: str
    window: _Window
    cut: dict[str, bool] = field(default_factory=dict)
    _labels: dict[str, tuple[str, str, str]] | None = None

    def programme(self, pid: str) -> str:
        if self._labels is None:
            self._labels = programme_labels()
        return self._labels.get(pid, (pid,))[0] if pid else ""

    def unit(self, pid: str) -> str:
        if self._labels is None:
            self._labels = programme_labels()
        unit = self._labels.get(pid, ("", "", ""))[2]
        return {"yuan/month": "元/月", "yuan/year": "元/年"}.get(unit, "元")

    def applications(self) -> QuerySet[Any]:
        return access.applications_visible(self.actor).filter(household=self.household)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _who(user: Any) -> str:
    if user is None:
        return "系统"
    return str(user.get_full_name() or user.username)


def _money(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def _label(choices: Any, code: str | None) -> str:
    if not code:
        return ""
    try:
        return str(choices(code).label)
    except ValueError:
        return str(code)


def _join(*parts: str) -> str:
    return "；".join(p for p in parts if p)


def _cap(ctx: _Context, kind: str, rows: list[Any], limit: int = SOURCE_CAP) -> list[Any]:
    """Rows fetched with ``[: limit + 1]``: mark the kind as cut when the extra row came."""
    if len(rows) > limit:
        ctx.cut[kind] = True
    return rows[:limit]


# -- registry: django-simple-history of the household, its members and their incomes ----------

_TYPES = {"+": "新增", "~": "修改", "-": "删除"}
# Never compared: identifiers, timestamps, the keyed hash of the ID number, and the
# household link (a member leaving shows as the change of their state).
_SKIP_FIELDS = {"id", "created_at", "updated_at", "id_number_hash", "id_number_encrypted",
                "household"}  # fmt: skip
# Compared, but only said to have changed: personal data not to be copied into a file.
_NAME_ONLY = {"id_number_masked", "phone"}
_VOCAB_OF_FIELD: dict[str, Any] = {
    "relation": vocab.Relation,
    "sex": vocab.Sex,
    "disability_kind": vocab.DisabilityKind,
    "health": vocab.Health,
    "employment": vocab.Employment,
    "schooling": vocab.Schooling,
    "state": vocab.PersonState,
    "hukou": vocab.Hukou,
    "type": vocab.IncomeType,
}


def _show(name: str, value: Any, divisions: dict[int, str]) -> str:
    if value is None or value == "" or value == []:
        return "（空）"
    if name == "division":
        return divisions.get(int(value), str(value))
    if name == "statuses" and isinstance(value, list):
        return "、".join(_label(vocab.Status, str(v)) for v in value)
    if name in _VOCAB_OF_FIELD:
        return _label(_VOCAB_OF_FIELD[name], str(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if name == "month" and isinstance(value, date):
        return f"{value:%Y-%m}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _changes(rec: Any, prev: Any, model: Any, divisions: dict[int, str]) -> str:
    """What a "~" row changed, by the fields' Chinese names."""
    if prev is None:
        return ""
    delta = rec.diff_against(prev, excluded_fields=_SKIP_FIELDS)
    out = []
    for change in delta.changes:
        name = str(model._meta.get_field(change.field).verbose_name)
        if change.field in _NAME_ONLY:
            out.append(f"{name}已更改")
        else:
            old = _show(change.field, change.old, divisions)
            new = _show(change.field, change.new, divisions)
            out.append(f"{name}：{old} → {new}")
    return "变化：" + "，".join(out) if out else ""


def _unchanged(rec: Any, prev: Any) -> bool:
    """A "~" row that changed nothing shown (a household saved along with its members'
    change, which has its own row with the same reason)."""
    if rec.history_type != "~" or prev is None:
        return False
    return not rec.diff_against(prev, excluded_fields=_SKIP_FIELDS).changes


def _previous(rows: list[Any], key: Callable[[Any], int]) -> dict[int, Any]:
    """For rows newest first: history_id → the same object's row just before it."""
    prev: dict[int, Any] = {}
    last_seen: dict[int, Any] = {}
    for rec in reversed(rows):
        prev[rec.history_id] = last_seen.get(key(rec))
        last_seen[key(rec)] = rec
    return prev


def _registry(ctx: _Context) -> list[FileEntry]:
    h, window = ctx.household, ctx.window
    below_end = Q(history_date__lt=window.upper) if window.end else Q()
    link = reverse("household_detail", args=[h.pk])
    entries: list[FileEntry] = []

    rows = list(
        Household.history.filter(below_end, id=h.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[: _HISTORY_FETCH + 1]
    )
    rows = _cap(ctx, "registry", rows, _HISTORY_FETCH)
    division_ids = {r.division_id for r in rows}
    divisions = dict(Division.objects.filter(pk__in=division_ids).values_list("pk", "name"))
    prev = _previous(rows, lambda r: r.id)
    titles = {"+": "建立家庭档案", "~": "修改家庭信息", "-": "删除家庭档案"}
    for rec in rows:
        if not window.holds(rec.history_date) or _unchanged(rec, prev[rec.history_id]):
            continue
        entries.append(
            FileEntry(
                at=rec.history_date,
                kind="registry",
                title=titles.get(rec.history_type, "家庭信息"),
                detail=_join(
                    _changes(rec, prev[rec.history_id], Household, divisions),
                    f"原因：{rec.history_change_reason}" if rec.history_change_reason else "",
                    f"经办人：{_who(rec.history_user)}",
                ),
                link=link,
            )
        )

    # Members: every history row of anyone who was ever in the household, kept while
    # they were in it (and the row by which they left); rows written after they moved to
    # another household are not this household's.
    person_ids = list(
        Person.history.filter(household_id=h.pk).order_by().values_list("id", flat=True).distinct()
    )
    if not person_ids:
        return entries
    people = list(
        Person.history.filter(below_end, id__in=person_ids)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[: _HISTORY_FETCH + 1]
    )
    people = _cap(ctx, "registry", people, _HISTORY_FETCH)
    prev = _previous(people, lambda r: r.id)
    names: dict[int, str] = {}
    # (person → ascending [(history_date, in this household)]) to place incomes in time
    spans: dict[int, list[tuple[datetime, bool]]] = defaultdict(list)
    for rec in reversed(people):
        names[rec.id] = rec.name
        before = prev[rec.history_id]
        here = rec.household_id == h.pk
        left_here = before is not None and before.household_id == h.pk and not here
        spans[rec.id].append((rec.history_date, here))
        if not (here or left_here) or not window.holds(rec.history_date):
            continue
        if _unchanged(rec, before):
            continue
        entries.append(_person_entry(rec, before, left_here, link))

    incomes = list(
        Income.history.filter(below_end, person_id__in=person_ids)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[: _HISTORY_FETCH + 1]
    )
    incomes = _cap(ctx, "registry", incomes, _HISTORY_FETCH)
    current = dict(Person.objects.filter(pk__in=person_ids).values_list("pk", "household_id"))
    prev = _previous(incomes, lambda r: r.id)
    for rec in incomes:
        if not window.holds(rec.history_date) or _unchanged(rec, prev[rec.history_id]):
            continue
        if not _was_member(spans.get(rec.person_id, []), rec.history_date,
                           current.get(rec.person_id) == h.pk):  # fmt: skip
            continue
        name = names.get(rec.person_id, "")
        kind = {"+": "登记收入", "~": "修改收入", "-": "删除收入"}.get(rec.history_type, "收入")
        entries.append(
            FileEntry(
                at=rec.history_date,
                kind="registry",
                title=f"{kind}：{name}" if name else kind,
                detail=_join(
                    f"{_label(vocab.IncomeType, rec.type)} {rec.month:%Y-%m} 月收入 "
                    f"{_money(rec.monthly)} 元",
                    _changes(rec, prev[rec.history_id], Income, {}),
                    f"原因：{rec.history_change_reason}" if rec.history_change_reason else "",
                    f"经办人：{_who(rec.history_user)}",
                ),
                link=link,
            )
        )
    return entries


def _was_member(spans: list[tuple[datetime, bool]], at: datetime, now_here: bool) -> bool:
    """Whether the person belonged to the household at ``at`` (from their history rows;
    with no row at or before ``at`` at hand, whether they belong to it now)."""
    position = bisect_right([s[0] for s in spans], at)
    if position == 0:
        return now_here
    return spans[position - 1][1]


def _person_entry(rec: Any, before: Any, left_here: bool, link: str) -> FileEntry:
    if left_here:
        state = _label(vocab.PersonState, rec.state)
        title = f"成员{state}：{rec.name}" if rec.state != "active" else f"成员离开本户：{rec.name}"
    else:
        title = {"+": "新增成员", "~": "修改成员信息", "-": "删除成员"}.get(
            rec.history_type, _TYPES.get(rec.history_type, "成员")
        ) + f"：{rec.name}"
    return FileEntry(
        at=rec.history_date,
        kind="registry",
        title=title,
        detail=_join(
            f"{_label(vocab.Relation, rec.relation)}，公民身份号码 {rec.id_number_masked}"
            if rec.history_type == "+"
            else "",
            _changes(rec, before, Person, {}),
            f"原因：{rec.history_change_reason}" if rec.history_change_reason else "",
            f"经办人：{_who(rec.history_user)}",
        ),
        link=link,
    )


# -- applications, visits, verification ----------------------------------------------------------

_ACTION_TITLES = {"submit": "提交申请", **ACTIONS}


def _applications(ctx: _Context) -> list[FileEntry]:
    rows = list(
        Transition.objects.filter(
            ctx.window.moments("at"), line__application__in=ctx.applications()
        )
        .select_related("line", "line__application", "actor")
        .order_by("-at", "-pk")[: SOURCE_CAP + 1]
    )
    entries = []
    for t in _cap(ctx, "application", rows):
        line = t.line
        application = line.application
        label = ctx.programme(line.programme)
        moved = (
            f"{_label(State, t.from_state)} → {_label(State, t.to_state)}"
            if t.from_state
            else f"进入{_label(State, t.to_state)}"
        )
        decided = ""
        if t.action == "approve" and t.data.get("amount"):
            decided = (
                f"批准金额 {_money(Decimal(str(t.data['amount'])))} {ctx.unit(line.programme)}"
            )
            if t.data.get("start_month"):
                decided += f"，自 {t.data['start_month']} 起"
        entries.append(
            FileEntry(
                at=t.at,
                kind="application",
                title=f"{label}：{_ACTION_TITLES.get(t.action, t.action)}",
                detail=_join(
                    f"申请 {application.number}",
                    moved,
                    decided,
                    f"理由：{t.reason}" if t.reason else "",
                    f"经办人：{_who(t.actor)}",
                ),
                link=reverse("application_detail", args=[application.pk]),
            )
        )
    return entries


def _visits(ctx: _Context) -> list[FileEntry]:
    rows = list(
        HomeVisit.objects.filter(ctx.window.days("visited_on"), application__in=ctx.applications())
        .select_related("application", "recorded_by")
        .order_by("-visited_on", "-pk")[: SOURCE_CAP + 1]
    )
    return [
        FileEntry(
            at=_day_start(v.visited_on),
            kind="visit",
            title="入户调查",
            detail=_join(
                f"申请 {v.application.number}",
                f"调查人员：{v.visitors}",
                f"居住状况：{v.living_conditions}" if v.living_conditions else "",
                f"调查情况：{v.findings}",
                f"录入人：{_who(v.recorded_by)}",
            ),
            link=reverse("application_detail", args=[v.application_id]),
            all_day=True,
        )
        for v in _cap(ctx, "visit", rows)
    ]


def _verifications(ctx: _Context) -> list[FileEntry]:
    rows = list(
        VerificationReport.objects.filter(
            ctx.window.moments("created_at"), application__in=ctx.applications()
        )
        .select_related("application", "created_by")
        .annotate(
            found=Count("discrepancies"),
            decisive=Count("discrepancies", filter=Q(discrepancies__changes_eligibility=True)),
        )
        .order_by("-created_at", "-pk")[: SOURCE_CAP + 1]
    )
    entries = []
    for r in _cap(ctx, "verification", rows):
        found: int = r.found
        decisive: int = r.decisive
        outcome = (
            f"发现差异 {found} 项，其中影响资格 {decisive} 项"
            if found
            else "申报情况与部门数据一致"
        )
        entries.append(
            FileEntry(
                at=r.created_at,
                kind="verification",
                title="经济状况核对报告",
                detail=_join(
                    f"申请 {r.application.number}",
                    f"核对日期 {r.as_of.isoformat()}",
                    outcome,
                    f"核对人：{_who(r.created_by)}",
                ),
                link=reverse("verification_report", args=[r.pk]),
            )
        )
    return entries


# -- the ledger ---------------------------------------------------------------------------------


def _payments(ctx: _Context) -> list[FileEntry]:
    rows = list(
        access.payments_visible(ctx.actor)
        .filter(ctx.window.moments("created_at"), household=ctx.household)
        .order_by("-created_at", "-pk")[: SOURCE_CAP + 1]
    )
    entries = []
    for p in _cap(ctx, "payment", rows):
        failed = p.status == PaymentStatus.FAILED and p.failure_reason
        entries.append(
            FileEntry(
                at=p.created_at,
                kind="payment",
                title=f"{ctx.programme(p.programme)} {p.period:%Y-%m} "
                f"{_label(PaymentKind, p.kind)}",
                detail=_join(
                    f"金额 {_money(p.amount)} 元",
                    f"状态：{_label(PaymentStatus, p.status)}",
                    f"失败原因：{p.failure_reason}" if failed else "",
                    f"业务参考号 {p.reference}",
                ),
                link=reverse("entitlement_detail", args=[p.entitlement_id]),
            )
        )
    return entries


def _entitlement_events(ctx: _Context) -> list[FileEntry]:
    entitlements = access.entitlements_visible(ctx.actor).filter(household=ctx.household)
    rows = list(
        EntitlementEvent.objects.filter(ctx.window.moments("at"), entitlement__in=entitlements)
        .select_related("entitlement", "actor")
        .order_by("-at", "-pk")[: SOURCE_CAP + 1]
    )
    entries = []
    for e in _cap(ctx, "entitlement", rows):
        programme = e.entitlement.programme
        amounts = ""
        if e.old_amount is not None and e.new_amount is not None:
            amounts = f"金额 {_money(e.old_amount)} → {_money(e.new_amount)} {ctx.unit(programme)}"
        elif e.new_amount is not None:
            amounts = f"金额 {_money(e.new_amount)} {ctx.unit(programme)}"
        entries.append(
            FileEntry(
                at=e.at,
                kind="entitlement",
                title=f"{ctx.programme(programme)}：{_label(EntitlementEvent.Kind, e.kind)}",
                detail=_join(
                    amounts,
                    f"生效月份 {e.effective_month:%Y-%m}" if e.effective_month else "",
                    f"理由：{e.reason}" if e.reason else "",
                    f"经办人：{_who(e.actor)}",
                ),
                link=reverse("entitlement_detail", args=[e.entitlement_id]),
            )
        )
    return entries


# -- casework -----------------------------------------------------------------------------------


def _casework(ctx: _Context) -> list[FileEntry]:
    """Plans opened and closed, needs assessed, measures agreed, follow-ups done, contacts,
    life events (and their handling), and proactive discovery (found and decided)."""
    w, h = ctx.window, ctx.household
    plans_qs = access.plans_visible(ctx.actor).filter(household=h)
    entries: list[FileEntry] = []

    plans = list(
        plans_qs.filter(w.moments("opened_at") | w.moments("closed_at"))
        .select_related("opened_by", "closed_by", "responsible")
        .order_by("-opened_at", "-pk")[: SOURCE_CAP + 1]
    )
    for plan in _cap(ctx, "casework", plans):
        if w.holds(plan.opened_at):
            entries.append(
                FileEntry(
                    at=plan.opened_at,
                    kind="casework",
                    title="建立帮扶计划（一户一策）",
                    detail=_join(
                        f"帮扶目标：{plan.summary}",
                        f"责任人：{_who(plan.responsible)}",
                        f"计划复查日期 {plan.review_on.isoformat()}",
                        f"经办人：{_who(plan.opened_by)}",
                    ),
                    link=_plan_link(plan.pk),
                )
            )
        if plan.closed_at is not None and w.holds(plan.closed_at):
            entries.append(
                FileEntry(
                    at=plan.closed_at,
                    kind="casework",
                    title="帮扶计划结案",
                    detail=_join(
                        f"结案结果：{_label(PlanOutcome, plan.outcome)}",
                        f"说明：{plan.outcome_note}" if plan.outcome_note else "",
                        f"经办人：{_who(plan.closed_by)}",
                    ),
                    link=_plan_link(plan.pk),
                )
            )

    needs = list(
        Need.objects.filter(w.days("assessed_on"), plan__in=plans_qs)
        .select_related("person", "assessed_by")
        .order_by("-assessed_on", "-pk")[: SOURCE_CAP + 1]
    )
    for need in _cap(ctx, "casework", needs):
        entries.append(
            FileEntry(
                at=_day_start(need.assessed_on),
                kind="casework",
                title=f"评估帮扶需求：{_label(NeedDomain, need.domain)}",
                detail=_join(
                    f"程度：{_label(Severity, need.severity)}",
                    need.description,
                    f"涉及成员：{need.person.name}" if need.person else "",
                    f"评估人：{_who(need.assessed_by)}",
                ),
                link=_plan_link(need.plan_id),
                all_day=True,
            )
        )

    measures = list(
        Measure.objects.filter(w.moments("created_at"), plan__in=plans_qs)
        .select_related("responsible")
        .order_by("-created_at", "-pk")[: SOURCE_CAP + 1]
    )
    for m in _cap(ctx, "casework", measures):
        entries.append(
            FileEntry(
                at=m.created_at,
                kind="casework",
                title=f"帮扶措施：{_label(MeasureKind, m.kind)}",
                detail=_join(
                    m.description,
                    f"救助项目：{ctx.programme(m.programme)}" if m.programme else "",
                    f"承接部门或组织：{m.target}" if m.target else "",
                    f"责任人：{_who(m.responsible)}",
                    f"完成时限 {m.due_on.isoformat()}" if m.due_on else "",
                    f"状态：{_label(MeasureStatus, m.status)}",
                ),
                link=_plan_link(m.plan_id),
            )
        )

    done = list(
        access.follow_ups_visible(ctx.actor)
        .filter(w.moments("done_at"), plan__household=h, done_at__isnull=False)
        .select_related("done_by")
        .order_by("-done_at", "-pk")[: SOURCE_CAP + 1]
    )
    for f in _cap(ctx, "casework", done):
        assert f.done_at is not None
        entries.append(
            FileEntry(
                at=f.done_at,
                kind="casework",
                title="完成回访",
                detail=_join(
                    f"回访事项：{f.purpose}",
                    f"结果：{f.result}",
                    f"经办人：{_who(f.done_by)}",
                ),
                link=_plan_link(f.plan_id),
            )
        )

    contacts = list(
        Contact.objects.filter(
            w.days("contacted_on"), household=h, division_path__startswith=ctx.path
        )
        .select_related("worker")
        .order_by("-contacted_on", "-pk")[: SOURCE_CAP + 1]
    )
    for c in _cap(ctx, "casework", contacts):
        entries.append(
            FileEntry(
                at=_day_start(c.contacted_on),
                kind="casework",
                title=f"个案帮扶：{_label(ContactMode, c.mode)}",
                detail=_join(c.content, f"社工：{_who(c.worker)}"),
                link=_plan_link(c.plan_id),
                all_day=True,
            )
        )

    entries.extend(_tasks(ctx))
    entries.extend(_discoveries(ctx))
    return entries


def _plan_link(plan_id: int) -> str:
    return reverse("plan_detail", args=[plan_id])


def _tasks(ctx: _Context) -> list[FileEntry]:
    w = ctx.window
    rows = list(
        access.tasks_visible(ctx.actor)
        .filter(w.days("event_on") | w.moments("done_at"), household=ctx.household)
        .select_related("person", "done_by")
        .order_by("-event_on", "-pk")[: SOURCE_CAP + 1]
    )
    entries = []
    for t in _cap(ctx, "casework", rows):
        kind = _label(EventKind, t.kind)
        if (w.start is None or t.event_on >= w.start) and (w.end is None or t.event_on <= w.end):
            entries.append(
                FileEntry(
                    at=_day_start(t.event_on),
                    kind="casework",
                    title=f"生活事件：{kind}",
                    detail=_join(
                        t.description,
                        f"涉及成员：{t.person.name}" if t.person else "",
                        f"触发复核的待遇 {t.reviews_triggered} 项" if t.reviews_triggered else "",
                    ),
                    all_day=True,
                )
            )
        if t.status == TaskStatus.DONE and t.done_at is not None and w.holds(t.done_at):
            entries.append(
                FileEntry(
                    at=t.done_at,
                    kind="casework",
                    title=f"处理生活事件：{kind}",
                    detail=_join(f"处理结果：{t.result}", f"经办人：{_who(t.done_by)}"),
                )
            )
    return entries


def _discoveries(ctx: _Context) -> list[FileEntry]:
    w = ctx.window
    rows = list(
        access.discovery_items_visible(ctx.actor)
        .filter(w.days("found_on") | w.moments("decided_at"), household=ctx.household)
        .select_related("decided_by", "application")
        .order_by("-found_on", "-pk")[: SOURCE_CAP + 1]
    )
    entries = []
    for item in _cap(ctx, "casework", rows):
        label = ctx.programme(item.programme)
        if (w.start is None or item.found_on >= w.start) and (
            w.end is None or item.found_on <= w.end
        ):
            reasons = "；".join(str(r) for r in item.reasons[:5]) if item.reasons else ""
            entries.append(
                FileEntry(
                    at=_day_start(item.found_on),
                    kind="casework",
                    title=f"主动发现：可能符合{label}",
                    detail=_join(
                        f"测算金额 {_money(item.amount)} {ctx.unit(item.programme)}",
                        f"依据：{reasons}" if reasons else "",
                    ),
                    all_day=True,
                )
            )
        if (
            item.status != ItemStatus.OPEN
            and item.decided_at is not None
            and w.holds(item.decided_at)
        ):
            application = item.application
            entries.append(
                FileEntry(
                    at=item.decided_at,
                    kind="casework",
                    title=f"主动发现线索{_label(ItemStatus, item.status)}：{label}",
                    detail=_join(
                        f"转为申请 {application.number}" if application else "",
                        f"说明：{item.reason}" if item.reason else "",
                        f"经办人：{_who(item.decided_by)}" if item.decided_by else "",
                    ),
                    link=reverse("application_detail", args=[application.pk])
                    if application
                    else None,
                )
            )
    return entries


# -- services received: elderly care ------------------------------------------------------------


def _services(ctx: _Context) -> list[FileEntry]:
    """Orders, patrol visits, devices and emergency calls of the household's members, as
    the actor's elderly-care scope shows them; each source keeps its newest ``SOURCE_CAP``."""
    mine = Q(elder__household=ctx.household)
    window = ctx.window
    orders = list(
        access.orders_visible(ctx.actor)
        .filter(mine, window.moments("created_at"))
        .select_related("elder", "service", "provider", "delivery", "placed_by")
        .order_by("-created_at", "-pk")[: SOURCE_CAP + 1]
    )
    visits = list(
        access.visits_visible(ctx.actor)
        .filter(mine, window.moments("visited_at"))
        .select_related("elder", "schedule", "recorded_by")
        .order_by("-visited_at", "-pk")[: SOURCE_CAP + 1]
    )
    incidents = list(
        access.incidents_visible(ctx.actor)
        .filter(mine, window.moments("started_at"))
        .select_related("elder", "device")
        .order_by("-started_at", "-pk")[: SOURCE_CAP + 1]
    )
    devices = list(
        access.devices_visible(ctx.actor)
        .filter(Q(person__household=ctx.household), window.days("installed_on"))
        .select_related("person", "supplier")
        .order_by("-installed_on", "-pk")[: SOURCE_CAP + 1]
    )
    entries = [_order_entry(o) for o in _cap(ctx, "services", orders)]
    entries += [_patrol_entry(v) for v in _cap(ctx, "services", visits)]
    entries += [_incident_entry(i) for i in _cap(ctx, "services", incidents)]
    entries += [_device_entry(d) for d in _cap(ctx, "services", devices)]
    return entries


def _order_entry(o: Order) -> FileEntry:
    delivery = getattr(o, "delivery", None)
    return FileEntry(
        at=o.created_at,
        kind="services",
        title=f"养老服务：{o.elder.name} {o.service.name} × {o.quantity}",
        detail=_join(
            f"服务日期 {o.scheduled_for.isoformat()}",
            f"服务商：{o.provider.name}",
            f"状态：{_label(OrderStatus, o.status)}",
            f"金额 {_money(o.total)} 元（补贴 {_money(o.subsidy)} 元，个人支付 {_money(o.elder_pays)} 元）",
            f"服务时间 {timezone.localtime(delivery.delivered_at):%Y-%m-%d %H:%M}，服务人员 {delivery.staff_name}"
            if delivery
            else "",
            f"下单人：{_who(o.placed_by)}",
        ),
        link=reverse("order_detail", args=[o.pk]),
    )


def _patrol_entry(v: Visit) -> FileEntry:
    return FileEntry(
        at=v.visited_at,
        kind="services",
        title=f"巡视探访：{v.elder.name}（{_label(VisitMode, v.schedule.mode)}）",
        detail=_join(
            f"结果：{_label(VisitOutcome, v.outcome)}", v.note, f"记录人：{_who(v.recorded_by)}"
        ),
    )


def _incident_entry(i: Incident) -> FileEntry:
    return FileEntry(
        at=i.started_at,
        kind="services",
        title=f"紧急呼叫：{i.elder.name}",
        detail=_join(
            f"呼叫 {i.events} 次",
            f"状态：{_label(IncidentStatus, i.status)}",
            f"处置结果：{i.outcome}" if i.outcome else "",
        ),
        link=reverse("incident_detail", args=[i.pk]),
    )


def _device_entry(d: Device) -> FileEntry:
    return FileEntry(
        at=_day_start(d.installed_on),
        kind="services",
        title=f"安装{_label(DeviceKind, d.kind)}：{d.person.name}",
        detail=_join(
            f"设备编号 {d.serial}" if d.serial else "",
            f"供应商：{d.supplier.name}" if d.supplier else "",
            f"状态：{_label(DeviceStatus, d.status)}",
        ),
        all_day=True,
    )


def _notes(ctx: _Context) -> list[FileEntry]:
    rows = list(
        HouseholdNote.objects.filter(
            ctx.window.moments("created_at"),
            household=ctx.household,
            division_path__startswith=ctx.path,
        )
        .select_related("author")
        .order_by("-created_at", "-pk")[: SOURCE_CAP + 1]
    )
    return [
        FileEntry(
            at=n.created_at,
            kind="note",
            title="工作记录",
            detail=_join(n.text, f"记录人：{_who(n.author)}"),
        )
        for n in _cap(ctx, "note", rows)
    ]


# -- the printed file ---------------------------------------------------------------------------


def pdf_context(data: HouseholdFile, actor: User, printed_at: datetime) -> dict[str, Any]:
    """Display values for ``casework/household_file_pdf.html`` (the template computes
    nothing): the office, the household's full division name, members, the timeline."""
    h = data.household
    codes = [c for c in h.division.path.split("/") if c]
    names = dict(Division.objects.filter(code__in=codes).values_list("code", "name"))
    district = names.get(codes[1]) if len(codes) > 1 else None
    local = timezone.localtime
    return {
        "office": f"北京市{district}民政局" if district else "北京市民政局",
        "number": h.number,
        "division_name": "".join(names.get(c, "") for c in codes[1:]) or h.division.name,
        "division_code": h.division.code,
        "address": h.address,
        "hukou": _label(vocab.Hukou, h.hukou),
        "members": data.members,
        "entries": [
            {
                "at": f"{local(e.at):%Y-%m-%d}" if e.all_day else f"{local(e.at):%Y-%m-%d %H:%M}",
                "kind": e.kind_label,
                "title": e.title,
                "detail": e.detail,
            }
            for e in data.entries
        ],
        "filters": _filters_text(data),
        "capped": [KINDS[k] for k in data.capped],
        "cap": SOURCE_CAP,
        "printed_at": f"{local(printed_at):%Y-%m-%d %H:%M}",
        "printed_by": _who(actor),
    }


def _filters_text(data: HouseholdFile) -> str:
    parts = []
    if len(data.kinds) < len(KINDS):
        parts.append("类别：" + "、".join(KINDS[k] for k in data.kinds))
    if data.start or data.end:
        start = data.start.isoformat() if data.start else "最早"
        end = data.end.isoformat() if data.end else "至今"
        parts.append(f"时间：{start} 至 {end}")
    return "；".join(parts)
