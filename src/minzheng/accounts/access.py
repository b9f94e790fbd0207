"""The only scoped fetches of registry records.

Every selector, view and API endpoint starts here. A record outside the actor's
jurisdiction is "not found", never "forbidden", so its existence is not revealed.
One condition per line so that coverage shows every branch.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from minzheng.accounts.errors import AccessErrorCode
from minzheng.accounts.roles import (
    ACCESS_LOG_READERS,
    ID_REVEALERS,
    REGISTRY_READERS,
    REGISTRY_WRITERS,
    Role,
)
from minzheng.core.errors import NotFound, PermissionDenied
from minzheng.registry.models import Division, Household, Person

if TYPE_CHECKING:
    from minzheng.accounts.models import AccessLog, User
    from minzheng.applications.models import Application
    from minzheng.benefits.models import Entitlement, Payment, PayrollRun
    from minzheng.casework.models import DiscoveryItem, FollowUp, Plan, Task
    from minzheng.eldercare.models import (
        Alert,
        Device,
        Facility,
        Incident,
        Inspection,
        Order,
        Provider,
        Settlement,
        Visit,
        VisitSchedule,
    )


def _is_staff_reader(actor: User) -> bool:
    return actor.is_active and actor.role in REGISTRY_READERS and actor.division_id is not None


def divisions_visible(actor: User) -> QuerySet[Division]:
    """The actor's division and everything below it (a resident: their community)."""
    if not actor.is_active:
        return Division.objects.none()
    if actor.role == Role.RESIDENT and actor.household_id is not None:
        return Division.objects.filter(households__pk=actor.household_id)
    if actor.division_id is None:
        return Division.objects.none()
    assert actor.division is not None
    return Division.objects.filter(path__startswith=actor.division.path)


def access_division_by_code(actor: User, code: str) -> Division:
    division = divisions_visible(actor).filter(code=code).first()
    if division is None:
        raise NotFound(AccessErrorCode.DIVISION_NOT_FOUND, "区划不存在或不在您的管辖范围内")
    return division


def households_visible(actor: User) -> QuerySet[Household]:
    if not actor.is_active:
        return Household.objects.none()
    if actor.role == Role.RESIDENT and actor.household_id is not None:
        return Household.objects.filter(pk=actor.household_id)
    if actor.role == Role.RESIDENT:
        return Household.objects.none()
    if not _is_staff_reader(actor):
        return Household.objects.none()
    assert actor.division is not None
    return Household.objects.filter(division__path__startswith=actor.division.path)


def persons_visible(actor: User) -> QuerySet[Person]:
    return Person.objects.filter(household__in=households_visible(actor).values("pk"))


def access_household_by_id(actor: User, household_id: int, *, for_write: bool = False) -> Household:
    """The household if the actor may see it; with ``for_write`` also if they may change it."""
    household = households_visible(actor).select_related("division").filter(pk=household_id).first()
    if household is None:
        raise NotFound(AccessErrorCode.HOUSEHOLD_NOT_FOUND, "家庭不存在或不在您的管辖范围内")
    if for_write:
        ensure_can_write(actor)
    return household


def can_write(actor: User) -> bool:
    return actor.role in REGISTRY_WRITERS


def ensure_can_write(actor: User) -> None:
    if not can_write(actor):
        raise PermissionDenied(AccessErrorCode.READ_ONLY, "您的角色只能查看，不能修改登记信息")


def ensure_registry_reader(actor: User) -> None:
    """Whole-registry work (evaluation runs, what-if) reads every household below the
    actor's division: only staff who may read the registry there."""
    if not _is_staff_reader(actor):
        raise PermissionDenied(
            "programmes.registry_readers_only", "您的角色不能查看基于登记数据的评估与测算"
        )


def ensure_can_write_in(actor: User, division: Division) -> None:
    """Creating a record in ``division`` requires write rights and the division in scope."""
    access_division_by_code(actor, division.code)
    ensure_can_write(actor)


def can_read_access_log(actor: User) -> bool:
    return actor.role in ACCESS_LOG_READERS and actor.division_id is not None


def can_reveal_id_numbers(actor: User) -> bool:
    return actor.role in ID_REVEALERS


def access_logs_visible(actor: User) -> QuerySet[AccessLog]:
    from minzheng.accounts.models import AccessLog

    if not can_read_access_log(actor) or actor.division is None:
        raise PermissionDenied(AccessErrorCode.AUDIT_ONLY, "只有审计监督员和管理员可以查询查阅日志")
    return AccessLog.objects.filter(division__path__startswith=actor.division.path)


def applications_visible(actor: User) -> QuerySet[Application]:
    """Applications handled in the actor's jurisdiction (a resident: their household's)."""
    from minzheng.applications.models import Application

    if not actor.is_active:
        return Application.objects.none()
    if actor.role == Role.RESIDENT and actor.household_id is not None:
        return Application.objects.filter(household_id=actor.household_id)
    if not _is_staff_reader(actor):
        return Application.objects.none()
    assert actor.division is not None
    return Application.objects.filter(division__path__startswith=actor.division.path)


def access_application_by_id(actor: User, application_id: int) -> Application:
    application = (
        applications_visible(actor)
        .select_related("household", "division", "applicant", "received_division")
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        raise NotFound("application.not_found", "申请不存在或不在您的管辖范围内")
    return application


# -- the benefits ledger -------------------------------------------------------------------

# Staff who read entitlements and payments in their jurisdiction.
BENEFIT_READERS = frozenset(
    {Role.COMMUNITY_WORKER, Role.STREET_REVIEWER, Role.DISTRICT_APPROVER, Role.AUDITOR, Role.ADMIN}
)
# Staff who read payroll runs, bank files and the journal (district finance and audit).
PAYROLL_READERS = frozenset({Role.DISTRICT_APPROVER, Role.AUDITOR, Role.ADMIN})


def _benefit_path(actor: User, readers: frozenset[str]) -> str | None:
    if not actor.is_active or actor.role not in readers or actor.division is None:
        return None
    return actor.division.path


def entitlements_visible(actor: User) -> QuerySet[Entitlement]:
    """Entitlements of households in the actor's jurisdiction (a resident: their own)."""
    from minzheng.benefits.models import Entitlement

    if actor.is_active and actor.role == Role.RESIDENT and actor.household_id is not None:
        return Entitlement.objects.filter(household_id=actor.household_id)
    path = _benefit_path(actor, BENEFIT_READERS)
    if path is None:
        return Entitlement.objects.none()
    return Entitlement.objects.filter(division_path__startswith=path)


def access_entitlement_by_id(actor: User, entitlement_id: int) -> Entitlement:
    found = (
        entitlements_visible(actor)
        .select_related("household", "payee")
        .filter(pk=entitlement_id)
        .first()
    )
    if found is None:
        raise NotFound("entitlement.not_found", "救助待遇不存在或不在您的管辖范围内")
    return found


def payments_visible(actor: User) -> QuerySet[Payment]:
    from minzheng.benefits.models import Payment

    if actor.is_active and actor.role == Role.RESIDENT and actor.household_id is not None:
        return Payment.objects.filter(household_id=actor.household_id)
    path = _benefit_path(actor, BENEFIT_READERS)
    if path is None:
        return Payment.objects.none()
    return Payment.objects.filter(division_path__startswith=path)


def payrolls_visible(actor: User) -> QuerySet[PayrollRun]:
    """Payroll runs whose division lies in the actor's jurisdiction (finance and audit)."""
    from minzheng.benefits.models import PayrollRun

    path = _benefit_path(actor, PAYROLL_READERS)
    if path is None:
        return PayrollRun.objects.none()
    return PayrollRun.objects.filter(division_path__startswith=path)


def journal_path(actor: User) -> str | None:
    """The division path whose journal entries (payrolls and provider settlements) the
    actor reads, or None."""
    return _benefit_path(actor, PAYROLL_READERS)


def access_payroll_by_id(actor: User, run_id: int) -> PayrollRun:
    found = payrolls_visible(actor).select_related("division").filter(pk=run_id).first()
    if found is None:
        raise NotFound("payroll.not_found", "发放批次不存在或不在您的管辖范围内")
    return found


# -- casework: household plans, follow-ups, discovery, life-event tasks ---------------------

# Staff who read plans, discovery items and tasks in their jurisdiction.
CASE_READERS = frozenset(
    {Role.COMMUNITY_WORKER, Role.STREET_REVIEWER, Role.DISTRICT_APPROVER, Role.AUDITOR, Role.ADMIN}
)
# Staff who write them (social work is done by the community, street and district offices).
CASE_WRITERS = frozenset({Role.COMMUNITY_WORKER, Role.STREET_REVIEWER, Role.DISTRICT_APPROVER})


def case_path(actor: User) -> str | None:
    """The division path below which the actor reads casework, or None (nothing)."""
    return _benefit_path(actor, CASE_READERS)


def plans_visible(actor: User) -> QuerySet[Plan]:
    from minzheng.casework.models import Plan

    path = case_path(actor)
    if path is None:
        return Plan.objects.none()
    return Plan.objects.filter(division_path__startswith=path)


def access_plan_by_id(actor: User, plan_id: int) -> Plan:
    found = (
        plans_visible(actor).select_related("household", "responsible").filter(pk=plan_id).first()
    )
    if found is None:
        raise NotFound("plan.not_found", "帮扶计划不存在或不在您的管辖范围内")
    return found


def follow_ups_visible(actor: User) -> QuerySet[FollowUp]:
    from minzheng.casework.models import FollowUp

    path = case_path(actor)
    if path is None:
        return FollowUp.objects.none()
    return FollowUp.objects.filter(division_path__startswith=path)


def discovery_items_visible(actor: User) -> QuerySet[DiscoveryItem]:
    from minzheng.casework.models import DiscoveryItem

    path = case_path(actor)
    if path is None:
        return DiscoveryItem.objects.none()
    return DiscoveryItem.objects.filter(division_path__startswith=path)


def access_discovery_item_by_id(actor: User, item_id: int) -> DiscoveryItem:
    found = discovery_items_visible(actor).select_related("household").filter(pk=item_id).first()
    if found is None:
        raise NotFound("discovery.not_found", "发现线索不存在或不在您的管辖范围内")
    return found


def tasks_visible(actor: User) -> QuerySet[Task]:
    from minzheng.casework.models import Task

    path = case_path(actor)
    if path is None:
        return Task.objects.none()
    return Task.objects.filter(division_path__startswith=path)


# -- reports and dashboards ----------------------------------------------------------------------

# Staff who read statistics of their jurisdiction (a department liaison reads their own
# department's work elsewhere; residents and providers none).
REPORT_READERS = frozenset(
    {Role.COMMUNITY_WORKER, Role.STREET_REVIEWER, Role.DISTRICT_APPROVER, Role.AUDITOR, Role.ADMIN}
)


def report_path(actor: User) -> str | None:
    """The division path below which the actor reads statistics, or None (nothing)."""
    return _benefit_path(actor, REPORT_READERS)


def access_report_division(actor: User, code: str | None) -> Division:
    """The division a dashboard or report is about: the actor's own by default, or one
    below it; anything else is "not found"."""
    path = report_path(actor)
    if path is None:
        raise NotFound("report.division_not_found", "区划不存在或不在您的管辖范围内")
    if not code:
        assert actor.division is not None
        return actor.division
    found = Division.objects.filter(code=code, path__startswith=path).first()
    if found is None:
        raise NotFound("report.division_not_found", "区划不存在或不在您的管辖范围内")
    return found


# -- elderly care -----------------------------------------------------------------------------------

# Staff who read and manage elderly care in their jurisdiction.
ELDERCARE_STAFF = frozenset(
    {Role.COMMUNITY_WORKER, Role.STREET_REVIEWER, Role.DISTRICT_APPROVER, Role.AUDITOR, Role.ADMIN}
)
# Staff who write it (auditors and admins read).
ELDERCARE_WRITERS = frozenset({Role.COMMUNITY_WORKER, Role.STREET_REVIEWER, Role.DISTRICT_APPROVER})


def eldercare_path(actor: User) -> str | None:
    """The division path below which staff read elderly care, or None. A service
    provider's users see only their provider's orders and visits (``provider_of``)."""
    return _benefit_path(actor, ELDERCARE_STAFF)


def provider_of(actor: User) -> int | None:
    """The provider a service-provider user works for, or None."""
    if not actor.is_active or actor.role != Role.SERVICE_PROVIDER:
        return None
    from minzheng.eldercare.models import ProviderMember

    return ProviderMember.objects.filter(user=actor).values_list("provider_id", flat=True).first()


# Scoped fetches of elderly care. Staff read what lies below their division; a service
# provider's users read their provider's own records; residents their household's orders.


def elders_visible(actor: User, born_by: date) -> QuerySet[Person]:
    """Active residents born on or before ``born_by`` (aged 60+) in the jurisdiction."""
    from minzheng.registry.vocab import PersonState

    path = eldercare_path(actor)
    if path is None:
        return Person.objects.none()
    return Person.objects.filter(
        state=PersonState.ACTIVE,
        birth_date__lte=born_by,
        household__division__path__startswith=path,
    )


def elders_reachable(actor: User) -> QuerySet[Person]:
    """Persons of the registry the actor sees who live in their elderly-care jurisdiction."""
    path = eldercare_path(actor)
    if path is None:
        return Person.objects.none()
    return persons_visible(actor).filter(household__division__path__startswith=path)


def _above(path: str) -> list[str]:
    """The paths of the divisions that contain ``path`` ("110000/110102/" → both)."""
    parts = path.strip("/").split("/")
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def providers_visible(actor: User) -> QuerySet[Provider]:
    """Registered in the jurisdiction, or serving an area that overlaps it; a provider's
    user: their own."""
    from django.db.models import Q

    from minzheng.eldercare.models import Provider

    path = eldercare_path(actor)
    if path is not None:
        overlapping = Division.objects.filter(Q(path__startswith=path) | Q(path__in=_above(path)))
        serving = Provider.objects.filter(areas__in=overlapping).values("pk")
        return Provider.objects.filter(Q(division_path__startswith=path) | Q(pk__in=serving))
    own = provider_of(actor)
    if own is not None:
        return Provider.objects.filter(pk=own)
    return Provider.objects.none()


def facilities_visible(actor: User) -> QuerySet[Facility]:
    from minzheng.eldercare.models import Facility

    path = eldercare_path(actor)
    if path is not None:
        return Facility.objects.filter(division_path__startswith=path)
    own = provider_of(actor)
    if own is not None:
        return Facility.objects.filter(operator_id=own)
    return Facility.objects.none()


def inspections_visible(actor: User) -> QuerySet[Inspection]:
    from django.db.models import Q

    from minzheng.eldercare.models import Inspection

    path = eldercare_path(actor)
    if path is not None:
        return Inspection.objects.filter(division_path__startswith=path)
    own = provider_of(actor)
    if own is not None:
        return Inspection.objects.filter(Q(provider_id=own) | Q(facility__operator_id=own))
    return Inspection.objects.none()


def orders_visible(actor: User) -> QuerySet[Order]:
    """A resident: their household's orders; a provider's users: their provider's; staff:
    those of elders below their division."""
    from minzheng.eldercare.models import Order

    if not actor.is_active:
        return Order.objects.none()
    if actor.role == Role.RESIDENT and actor.household_id is not None:
        return Order.objects.filter(elder__household_id=actor.household_id)
    provider_id = provider_of(actor)
    if provider_id is not None:
        return Order.objects.filter(provider_id=provider_id)
    path = eldercare_path(actor)
    if path is None:
        return Order.objects.none()
    return Order.objects.filter(division_path__startswith=path)


def settlements_visible(actor: User) -> QuerySet[Settlement]:
    """A provider's users: their provider's settlements; staff: those of providers
    registered below their division; residents none."""
    from minzheng.eldercare.models import Settlement

    if not actor.is_active:
        return Settlement.objects.none()
    provider_id = provider_of(actor)
    if provider_id is not None:
        return Settlement.objects.filter(provider_id=provider_id)
    path = eldercare_path(actor)
    if path is None:
        return Settlement.objects.none()
    return Settlement.objects.filter(division_path__startswith=path)


def schedules_visible(actor: User) -> QuerySet[VisitSchedule]:
    """Staff: schedules of elders in their jurisdiction; a provider's user: the schedules
    assigned to their provider's users."""
    from minzheng.eldercare.models import VisitorKind, VisitSchedule

    path = eldercare_path(actor)
    if path is not None:
        return VisitSchedule.objects.filter(division_path__startswith=path)
    provider = provider_of(actor)
    if provider is not None:
        return VisitSchedule.objects.filter(
            visitor_kind=VisitorKind.PROVIDER, visitor__provider_membership__provider_id=provider
        )
    return VisitSchedule.objects.none()


def visits_visible(actor: User) -> QuerySet[Visit]:
    from minzheng.eldercare.models import Visit

    return Visit.objects.filter(schedule__in=schedules_visible(actor).values("pk"))


def alerts_visible(actor: User) -> QuerySet[Alert]:
    """Alerts of elders in the actor's jurisdiction (staff only)."""
    from minzheng.eldercare.models import Alert

    path = eldercare_path(actor)
    if path is None:
        return Alert.objects.none()
    return Alert.objects.filter(division_path__startswith=path)


def devices_visible(actor: User) -> QuerySet[Device]:
    from minzheng.eldercare.models import Device

    path = eldercare_path(actor)
    if path is None:
        return Device.objects.none()
    return Device.objects.filter(division_path__startswith=path)


def incidents_visible(actor: User) -> QuerySet[Incident]:
    from minzheng.eldercare.models import Incident

    path = eldercare_path(actor)
    if path is None:
        return Incident.objects.none()
    return Incident.objects.filter(division_path__startswith=path)
