"""Demo applications: cases at every step of the workflow in the demo community, replayed
as if filed over the past weeks (``applications.clock.as_of``), so that ``make run``
opens on a worker's inbox with work in it, some of it overdue, and a public notice."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.utils import timezone

from minzheng.accounts.models import User
from minzheng.applications import clock
from minzheng.applications.models import Application
from minzheng.applications.services import application_create, application_transition
from minzheng.programmes.eligibility import evaluate_document
from minzheng.registry.models import Household
from minzheng.registry.selectors import household_document

VISIT = {"visitors": "社区工作人员两名", "findings": "入户核实家庭人口、住房与收入情况，与申报一致",
         "living_conditions": "自有住房"}  # fmt: skip
# (days ago filed, steps taken with days ago for each): the step names are actions
PLAN: list[tuple[int, list[tuple[str, int]]]] = [
    (10, [("accept", 9), ("record_visit", 7), ("verify", 5), ("publish_notice", 3)]),  # in notice
    (30, [("accept", 29), ("record_visit", 25), ("verify", 22), ("publish_notice", 20),
          ("close_notice", 12)]),  # street review
    (40, [("accept", 39), ("record_visit", 35), ("verify", 32), ("publish_notice", 30),
          ("close_notice", 22), ("review", 18)]),  # district approval
    (50, [("accept", 49), ("record_visit", 45), ("verify", 42), ("publish_notice", 40),
          ("close_notice", 32), ("review", 28), ("approve", 25)]),  # decided
    (25, [("accept", 24)]),  # home visit overdue
    (0, []),  # waiting for acceptance
    (12, [("accept", 11), ("record_visit", 8), ("verify", 6)]),
    (1, []),
]  # fmt: skip
ROLE_OF = {"accept": "worker", "record_visit": "worker", "verify": "worker",
           "publish_notice": "worker", "close_notice": "worker", "review": "reviewer",
           "approve": "approver"}  # fmt: skip


def _candidates(community: str, today: date) -> Iterable[Household]:
    """Households of the community that the engine finds eligible for dibao."""
    for household in Household.objects.filter(division__code=community).order_by("pk")[:400]:
        members = list(household.members.filter(state="active").prefetch_related("incomes"))
        if not members:
            continue
        results = evaluate_document(household_document(household, members, reveal=False), today)
        if results.get("dibao", {}).get("eligible"):
            yield household


def demo_applications(community: str) -> int:
    """Create the demo cases once; returns how many applications were added."""
    if Application.objects.filter(division__code=community).exists():
        return 0
    users = {u.username: u for u in User.objects.filter(username__in=["worker", "reviewer",
                                                                       "approver"])}  # fmt: skip
    if len(users) < 3:
        return 0
    today = timezone.localdate()
    added = 0
    for household, (filed, steps) in zip(_candidates(community, today), PLAN, strict=False):
        with clock.as_of(today - timedelta(days=filed)):
            application = application_create(actor=users["worker"], household_id=household.pk,
                                             programmes=["dibao"], include_suggested=False,
                                             note="家庭收入低于低保标准，申请最低生活保障")  # fmt: skip
        for action, ago in steps:
            with clock.as_of(today - timedelta(days=ago)):
                application_transition(actor=users[ROLE_OF[action]], application_id=application.pk,
                                       action=action, reason="演示：按规定办理", visit=VISIT,
                                       programmes=["dibao"])  # fmt: skip
        added += 1
    return added


def demo_feeds(community: str) -> int:
    """A bank feed for the demo district: savings the overdue case did not declare (its
    verification will show the difference), and one record with a mistyped ID number
    for the link review queue. Returns the number of records imported (0 if present)."""
    from minzheng.verification.feeds import feed_import
    from minzheng.verification.models import Feed

    if Feed.objects.filter(division__code="110102").exists():
        return 0
    approver = User.objects.filter(username="approver").first()
    cases = list(
        Application.objects.filter(division__code=community)
        .select_related("applicant", "household")
        .order_by("pk")[:6]
    )
    if approver is None or len(cases) < 5:
        return 0
    lines = ["公民身份号码,姓名,出生日期,性别,存款余额,开户银行,住址"]
    undeclared = cases[4].applicant  # the case still at its home visit (see PLAN)
    lines.append(f"{undeclared.id_number},{undeclared.name},{undeclared.birth_date},"
                 f"{'男' if undeclared.sex == 'M' else '女'},80000.00,中国工商银行,")  # fmt: skip
    typo = cases[0].applicant
    number = typo.id_number
    mistyped = number[:15] + number[16] + number[15] + number[17]  # two digits transposed
    lines.append(f"{mistyped},{typo.name},{typo.birth_date},{'男' if typo.sex == 'M' else '女'},"
                 f"1200.00,中国建设银行,")  # fmt: skip
    unsure = cases[1].applicant  # no ID number, birth date mistyped: for the review queue
    near = unsure.birth_date.replace(day=unsure.birth_date.day % 28 + 1)  # one digit off
    lines.append(f",{unsure.name},{near},{'男' if unsure.sex == 'M' else '女'},"
                 f"300.00,北京银行,{cases[1].household.address}")  # fmt: skip
    report = feed_import(actor=approver, source="bank_deposits", division_code="110102",
                         describes_on=timezone.localdate() - timedelta(days=7),
                         file_name="demo-bank.csv", content="\n".join(lines).encode())  # fmt: skip
    return report.rows
