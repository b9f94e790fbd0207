"""Loading the named demo district: the same cast for ``make run`` and the tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from minzheng.accounts.models import User
from minzheng.accounts.roles import Role
from minzheng.accounts.services import user_create
from minzheng.demo.generator import communities, documents_frame
from minzheng.registry import services as registry_services
from minzheng.registry.divisions import beijing_divisions, load_divisions
from minzheng.registry.documents import HouseholdDoc
from minzheng.registry.models import Division, Household

DEMO_PASSWORD = "minzheng-demo"
DEMO_COMMUNITY_STREET = "110102009"  # 展览路街道


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    division: str
    department: str = ""


def demo_divisions(seed: int = 0) -> int:
    """Add the synthetic communities under Xicheng's real streets."""
    rows = [(c.code, c.name, "community", c.street) for c in communities(seed)]
    return load_divisions(Division, [*beijing_divisions(), *rows])


def demo_community(seed: int = 0) -> str:
    return next(c.code for c in communities(seed) if c.street == DEMO_COMMUNITY_STREET)


def demo_load(
    households: int = 20_000,
    seed: int = 0,
    *,
    progress: Callable[[int, int], None] | None = None,
    chunk: int = 2_000,
) -> int:
    """Load the demo district once; returns the number of households added (0 if present)."""
    demo_divisions(seed)
    if Household.objects.filter(external_id__startswith=f"XC{seed}-").exists():
        return 0
    frame = documents_frame(households, seed)
    added = 0
    with transaction.atomic():
        for start in range(0, frame.height, chunk):
            docs = [HouseholdDoc.model_validate(d) for d in frame.slice(start, chunk).to_dicts()]
            registry_services.households_create(actor=None, documents=docs, reason="演示数据")
            added += len(docs)
            if progress:
                progress(added, frame.height)
    return added


def demo_users(seed: int = 0, password: str = DEMO_PASSWORD) -> list[DemoLogin]:
    """One user per role, created once; returns every demo login."""
    community = demo_community(seed)
    cast = [
        DemoLogin("worker", Role.COMMUNITY_WORKER, community),
        DemoLogin("reviewer", Role.STREET_REVIEWER, DEMO_COMMUNITY_STREET),
        DemoLogin("approver", Role.DISTRICT_APPROVER, "110102"),
        DemoLogin("approver2", Role.DISTRICT_APPROVER, "110102"),
        DemoLogin("liaison", Role.DEPARTMENT_LIAISON, "110102", "human_resources"),
        DemoLogin("provider", Role.SERVICE_PROVIDER, "110102"),
        DemoLogin("auditor", Role.AUDITOR, "110000"),
        DemoLogin("admin", Role.ADMIN, "110000"),
        DemoLogin("resident", Role.RESIDENT, community),
    ]
    for login in cast:
        if User.objects.filter(username=login.username).exists():
            continue
        household = None
        if login.role == Role.RESIDENT:
            household = Household.objects.filter(division__code=community).order_by("pk").first()
            if household is None:
                continue
        user_create(
            username=login.username,
            role=login.role,
            division_code=login.division,
            password=password,
            department=login.department,
            household=household,
        )
    return cast
