"""The support cascade for medical bills (先保险后救助再慈善): every figure worked by hand.

Policy (shared/policy/README.md, beijing.yaml ``medical_assistance``, from 2023-01-01):
remaining = total − insurance; extreme poverty 100 % with no cap; dibao and low income
80 % outpatient (cap 8,000 a year) and 85 % inpatient (cap 160,000 a year); illness bands
30 / 40 / 50 % (cap 150,000 a year). What assistance leaves is offered to charity.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from minzheng.accounts.models import User
from minzheng.accounts.roles import Role
from minzheng.accounts.services import user_create
from minzheng.applications import clock
from minzheng.benefits import cascade
from minzheng.benefits.cascade import medical_claim_create
from minzheng.benefits.models import Entitlement, MedicalClaim
from minzheng.core.errors import ApplicationError, FieldError, NotFound, PermissionDenied
from minzheng.registry.models import Household, Person
from tests.fixtures import COMMUNITY_A, Cast

TODAY = date(2026, 11, 23)
CLAIMS = "/api/v1/medical-claims"


@pytest.fixture(autouse=True)
def today(monkeypatch: pytest.MonkeyPatch) -> Iterator[date]:
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    yield TODAY


def entitle(household: Household, programme: str, status: str = "active") -> Entitlement:
    return Entitlement.objects.create(
        household=household, programme=programme, division=household.division,
        division_path=household.division.path, amount=Decimal("1450.00"),
        amount_from=date(2026, 1, 1), start_month=date(2026, 1, 1), status=status,
    )  # fmt: skip


def head(household: Household) -> Person:
    return Person.objects.get(household=household)


def claim(cast: Cast, household: Household, *, role: str = Role.COMMUNITY_WORKER,
          **fields: Any) -> MedicalClaim:  # fmt: skip
    args: dict[str, Any] = {"person_id": head(household).pk, "kind": "inpatient",
                            "treated_on": "2026-10-08", **fields}  # fmt: skip
    return medical_claim_create(actor=cast.users[role], household_id=household.pk, **args)


def money(c: MedicalClaim) -> tuple[str, str, str, str, str]:
    """(remaining, used_before, assistance, charity, cap) as two-decimal strings."""
    cap = "-" if c.cap is None else f"{c.cap:.2f}"
    return (f"{c.remaining:.2f}", f"{c.used_before:.2f}", f"{c.assistance:.2f}",
            f"{c.charity_offered:.2f}", cap)  # fmt: skip


def post(client: Client, path: str, body: dict[str, Any], **headers: Any) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


# -- the cascade, by band ---------------------------------------------------------------------


def test_dibao_inpatient_bill(cast: Cast) -> None:
    entitle(cast.own, "dibao")
    c = claim(cast, cast.own, total="50,000.00", insurance_paid="30000")
    # remaining 50,000.00 − 30,000.00 = 20,000.00; dibao inpatient 85 %:
    # 0.85 × 20,000.00 = 17,000.00 (cap 160,000, nothing used); charity 20,000.00 − 17,000.00
    assert c.band == "dibao" and c.ratio == Decimal("0.85")
    assert money(c) == ("20000.00", "0.00", "17000.00", "3000.00", "160000.00")
    assert c.division_path == cast.own.division.path
    assert [(s["label"], s["amount"]) for s in c.steps] == [
        ("医保支付", "30000.00"), ("医疗救助", "17000.00"), ("转介慈善", "3000.00"),
    ]  # fmt: skip
    assert c.steps[1]["capped"] is False and c.steps[1]["cap"] == "160000.00"


def test_outpatient_cap_across_claims_and_years(cast: Cast) -> None:
    entitle(cast.own, "dibao")
    out = {"kind": "outpatient"}
    # 2025, first bill: 9,000.00 − 1,000.00 = 8,000.00 remaining; 80 % = 6,400.00;
    # cap 8,000.00, nothing used: 6,400.00; charity 8,000.00 − 6,400.00 = 1,600.00
    a = claim(cast, cast.own, total="9000", insurance_paid="1000", treated_on="2025-03-01", **out)
    assert money(a) == ("8000.00", "0.00", "6400.00", "1600.00", "8000.00")
    # 2025, second bill: 5,000.00 − 1,500.00 = 3,500.00; 80 % = 2,800.00, but only
    # 8,000.00 − 6,400.00 = 1,600.00 of the cap is left; charity 3,500.00 − 1,600.00 = 1,900.00
    b = claim(cast, cast.own, total="5000", insurance_paid="1500", treated_on="2025-06-15", **out)
    assert money(b) == ("3500.00", "6400.00", "1600.00", "1900.00", "8000.00")
    assert b.steps[1]["capped"] is True and b.steps[1]["computed"] == "2800.00"
    # 2025, third bill: the cap is used up (6,400.00 + 1,600.00 = 8,000.00): 0.00, all
    # 1,000.00 − 0.00 = 1,000.00 remaining goes to charity
    c = claim(cast, cast.own, total="1000", insurance_paid="0", treated_on="2025-12-31", **out)
    assert money(c) == ("1000.00", "8000.00", "0.00", "1000.00", "8000.00")
    # 2025, an inpatient bill has its own cap: 10,000.00 − 4,000.00 = 6,000.00; 85 % = 5,100.00
    d = claim(cast, cast.own, total="10000", insurance_paid="4000", treated_on="2025-07-01")
    assert money(d) == ("6000.00", "0.00", "5100.00", "900.00", "160000.00")
    # 2026 starts afresh: 3,000.00 − 500.00 = 2,500.00; 80 % = 2,000.00, nothing used in 2026
    e = claim(cast, cast.own, total="3000", insurance_paid="500", treated_on="2026-01-10", **out)
    assert money(e) == ("2500.00", "0.00", "2000.00", "500.00", "8000.00")


def test_low_income_outpatient_shares_the_dibao_outpatient_cap(cast: Cast) -> None:
    entitle(cast.own, "low_income", status="suspended")  # suspended is still live
    # 7,000.00 − 0.00 = 7,000.00; low income outpatient 80 % = 5,600.00
    a = claim(cast, cast.own, total="7000", insurance_paid="0", kind="outpatient")
    assert a.band == "low_income"
    assert money(a) == ("7000.00", "0.00", "5600.00", "1400.00", "8000.00")
    # 4,000.00 × 80 % = 3,200.00 but only 8,000.00 − 5,600.00 = 2,400.00 left; charity 1,600.00
    b = claim(cast, cast.own, total="4000", insurance_paid="0", kind="outpatient")
    assert money(b) == ("4000.00", "5600.00", "2400.00", "1600.00", "8000.00")


def test_extreme_poverty_pays_everything_without_cap(cast: Cast) -> None:
    entitle(cast.own, "extreme_poverty")
    entitle(cast.own, "dibao", status="ended")  # an ended entitlement decides nothing
    # 223,456.78 − 23,456.78 = 200,000.00; 100 % = 200,000.00 (more than the 160,000
    # inpatient cap of dibao: extreme poverty has none); charity 0.00
    a = claim(cast, cast.own, total="223456.78", insurance_paid="23456.78")
    assert a.band == "extreme_poverty" and a.ratio == Decimal("1")
    assert money(a) == ("200000.00", "0.00", "200000.00", "0.00", "-")
    # a second bill the same year: 50,000.01 − 0.00, 100 % = 50,000.01; used 200,000.00
    b = claim(cast, cast.own, total="50000.01", insurance_paid="0")
    assert money(b) == ("50000.01", "200000.00", "50000.01", "0.00", "-")
    assert b.steps[1]["cap"] is None and b.steps[2]["amount"] == "0.00"


def test_entitlement_order_extreme_poverty_before_dibao(cast: Cast) -> None:
    entitle(cast.own, "dibao")
    entitle(cast.own, "extreme_poverty")
    c = claim(cast, cast.own, total="100", insurance_paid="0", kind="outpatient")
    assert c.band == "extreme_poverty" and f"{c.assistance:.2f}" == "100.00"


def test_illness_bands(cast: Cast) -> None:
    # no live entitlement: an explicit illness band, second band 40 %:
    # 80,000.00 − 45,678.91 = 34,321.09; 0.40 × 34,321.09 = 13,728.436 → 13,728.44 (half up);
    # charity 34,321.09 − 13,728.44 = 20,592.65
    a = claim(cast, cast.own, total="80000", insurance_paid="45678.91", band="illness_2")
    assert a.band == "illness_2" and a.ratio == Decimal("0.4")
    assert money(a) == ("34321.09", "0.00", "13728.44", "20592.65", "150000.00")
    # third band 50 %: 100.05 × 0.5 = 50.025 → 50.03 half up (half-even would give 50.02);
    # charity 100.05 − 50.03 = 50.02
    b = claim(cast, cast.own, total="100.05", insurance_paid="0", band="illness_3")
    assert money(b) == ("100.05", "13728.44", "50.03", "50.02", "150000.00")


def test_illness_cap_is_shared_by_outpatient_and_inpatient(cast: Cast) -> None:
    # first band 30 %: 300,000.00 − 0.00 → 0.3 × 300,000.00 = 90,000.00
    a = claim(cast, cast.own, total="300000", insurance_paid="0", band="illness_1")
    assert money(a) == ("300000.00", "0.00", "90000.00", "210000.00", "150000.00")
    # outpatient, third band: 200,000.00 × 0.5 = 100,000.00 but 150,000.00 − 90,000.00 =
    # 60,000.00 left of the one illness cap; charity 200,000.00 − 60,000.00 = 140,000.00
    b = claim(cast, cast.own, total="200000", insurance_paid="0", band="illness_3",
              kind="outpatient")  # fmt: skip
    assert money(b) == ("200000.00", "90000.00", "60000.00", "140000.00", "150000.00")


def test_insurance_paid_everything(cast: Cast) -> None:
    entitle(cast.own, "dibao")
    c = claim(cast, cast.own, total="1234.56", insurance_paid="1234.56")
    # 1,234.56 − 1,234.56 = 0.00: nothing for assistance, nothing for charity
    assert money(c) == ("0.00", "0.00", "0.00", "0.00", "160000.00")


def test_claims_are_per_person(cast: Cast, make_household: Callable[..., Household]) -> None:
    """Another person's claims do not use this person's cap."""
    other = make_household(COMMUNITY_A, "钱七")
    entitle(cast.own, "dibao")
    entitle(other, "dibao")
    claim(cast, other, total="10000", insurance_paid="0", kind="outpatient")  # 8,000.00 used
    # 1,000.00 × 80 % = 800.00 for 张三, whose own cap is untouched
    c = claim(cast, cast.own, total="1000", insurance_paid="0", kind="outpatient")
    assert money(c) == ("1000.00", "0.00", "800.00", "200.00", "8000.00")


def test_a_note_is_kept_with_the_assistance_step(cast: Cast) -> None:
    entitle(cast.own, "dibao")
    c = claim(cast, cast.own, total="10", insurance_paid="0", reason="出院结算单已核对")
    assert c.steps[1]["note"] == "出院结算单已核对"


# -- refusals: nothing is written -------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"total": "100", "insurance_paid": "100.01"}, "insurance_paid",
         "medical_claim.insurance_exceeds_total"),
        ({"treated_on": "2026-11-24"}, "treated_on", "medical_claim.date_future"),
        ({"treated_on": "2026-02-30"}, "treated_on", "medical_claim.date_invalid"),
        ({"treated_on": "20261001"}, "treated_on", "medical_claim.date_invalid"),
        ({"treated_on": "2022-12-31"}, "treated_on", "medical_claim.before_policy"),
        ({"kind": "dental"}, "kind", "medical_claim.kind_invalid"),
        ({"total": "-5"}, "total", "medical_claim.amount_invalid"),
        ({"total": "0"}, "total", "medical_claim.amount_invalid"),
        ({"total": "10.001"}, "total", "medical_claim.amount_invalid"),
        ({"insurance_paid": "abc"}, "insurance_paid", "medical_claim.amount_invalid"),
        ({"total": "10000000000.00"}, "total", "medical_claim.amount_invalid"),
        ({"band": "poor"}, "band", "medical_claim.band_invalid"),
        ({"band": "illness_1"}, "band", "medical_claim.band_mismatch"),
        ({"reason": "x" * 501}, "reason", "benefits.reason_required"),
    ],
)  # fmt: skip
def test_bad_input_is_refused(cast: Cast, fields: dict[str, Any], field: str, code: str) -> None:
    entitle(cast.own, "dibao")
    args = {"total": "100", "insurance_paid": "0", **fields}
    with pytest.raises(FieldError) as caught:
        claim(cast, cast.own, **args)
    assert (caught.value.field, caught.value.code, caught.value.status) == (field, code, 422)
    assert MedicalClaim.objects.count() == 0


def test_person_must_belong_to_the_household(
    cast: Cast, make_household: Callable[..., Household]
) -> None:
    neighbour = make_household(COMMUNITY_A, "钱七")
    entitle(cast.own, "dibao")
    for stranger in (head(neighbour).pk, head(cast.other_district).pk, 10**9, "abc"):
        with pytest.raises(FieldError) as caught:
            claim(cast, cast.own, total="100", insurance_paid="0", person_id=stranger)
        assert caught.value.field == "person"
        assert caught.value.code == "medical_claim.person_not_member"
    assert MedicalClaim.objects.count() == 0


def test_band_needed_without_entitlement(cast: Cast) -> None:
    with pytest.raises(FieldError) as caught:
        claim(cast, cast.own, total="100", insurance_paid="0")
    assert (caught.value.field, caught.value.code) == ("band", "medical_claim.band_required")
    assert "因病致贫" in caught.value.message
    # a band of a programme the household does not receive is refused too
    with pytest.raises(FieldError) as caught:
        claim(cast, cast.own, total="100", insurance_paid="0", band="dibao")
    assert (caught.value.field, caught.value.code) == ("band", "medical_claim.band_mismatch")
    entitle(cast.own, "low_income", status="ended")
    with pytest.raises(FieldError):
        claim(cast, cast.own, total="100", insurance_paid="0")
    assert MedicalClaim.objects.count() == 0


def test_scope_and_roles(cast: Cast) -> None:
    for h in (cast.own, cast.other_street, cast.other_district):
        entitle(h, "dibao")
    # outside the worker's community, outside the district: not found
    for h in (cast.other_street, cast.other_district):
        with pytest.raises(NotFound):
            claim(cast, h, total="100", insurance_paid="0")
    with pytest.raises(NotFound):
        claim(cast, cast.other_district, role=Role.DISTRICT_APPROVER, total="100", insurance_paid="0")  # fmt: skip
    # readers who may not record a claim
    for role in (Role.RESIDENT, Role.AUDITOR, Role.ADMIN, Role.DEPARTMENT_LIAISON):
        with pytest.raises(PermissionDenied):
            claim(cast, cast.own, role=role, total="100", insurance_paid="0")
    assert MedicalClaim.objects.count() == 0
    # the three writers, each in their own scope
    for role in (Role.COMMUNITY_WORKER, Role.STREET_REVIEWER, Role.DISTRICT_APPROVER):
        claim(cast, cast.own, role=role, total="100", insurance_paid="0")
    claim(cast, cast.other_street, role=Role.DISTRICT_APPROVER, total="100", insurance_paid="0")
    assert MedicalClaim.objects.count() == 4


def test_visible_claims_follow_the_division(cast: Cast) -> None:
    for h in (cast.own, cast.other_street):
        entitle(h, "dibao")
    own = claim(cast, cast.own, total="100", insurance_paid="0")
    far = claim(cast, cast.other_street, role=Role.DISTRICT_APPROVER, total="100",
                insurance_paid="0")  # fmt: skip

    def seen(role: str) -> set[int]:
        return set(cascade.medical_claims_visible(cast.users[role]).values_list("pk", flat=True))

    assert seen(Role.COMMUNITY_WORKER) == seen(Role.STREET_REVIEWER) == {own.pk}
    assert (
        seen(Role.DISTRICT_APPROVER) == seen(Role.AUDITOR) == seen(Role.ADMIN) == {own.pk, far.pk}
    )
    assert (
        seen(Role.RESIDENT) == seen(Role.DEPARTMENT_LIAISON) == seen(Role.SERVICE_PROVIDER) == set()
    )
    with pytest.raises(NotFound):
        cascade.medical_claim_get(cast.users[Role.COMMUNITY_WORKER], far.pk)
    out = cascade.claim_out(cascade.medical_claim_get(cast.users[Role.AUDITOR], own.pk))
    assert out["person"] == {"id": own.person_id, "name": "张三",
                             "id_number": head(cast.own).id_number_masked}  # fmt: skip
    assert "*" in out["person"]["id_number"]
    assert (out["total"], out["assistance"], out["charity_offered"]) == ("100.00", "85.00", "15.00")


# -- the API ------------------------------------------------------------------------------------


def body(household: Household, **fields: Any) -> dict[str, Any]:
    return {"household": household.pk, "person": head(household).pk, "kind": "inpatient",
            "total": "50000.00", "insurance_paid": "30000.00", "treated_on": "2026-10-08",
            **fields}  # fmt: skip


def test_api_create_list_and_get(cast: Cast) -> None:
    entitle(cast.own, "dibao")
    worker = cast.api(Role.COMMUNITY_WORKER)
    r = post(worker, CLAIMS, body(cast.own))
    assert r.status_code == 201, r.content
    out = r.json()
    # 50,000.00 − 30,000.00 = 20,000.00; 85 % = 17,000.00; charity 3,000.00
    assert {k: out[k] for k in ("kind", "band", "total", "insurance_paid", "remaining",
                                "ratio", "cap", "used_before", "assistance",
                                "charity_offered")} == {
        "kind": "inpatient", "band": "dibao", "total": "50000.00",
        "insurance_paid": "30000.00", "remaining": "20000.00", "ratio": "0.8500",
        "cap": "160000.00", "used_before": "0.00", "assistance": "17000.00",
        "charity_offered": "3000.00",
    }  # fmt: skip
    assert [s["code"] for s in out["steps"]] == ["insurance", "medical_assistance", "charity"]
    assert out["person"]["name"] == "张三" and "*" in out["person"]["id_number"]

    # numbers are accepted for money too: 8,000 × 85 % = 6,800.00, used 17,000.00 before
    r = post(worker, CLAIMS, body(cast.own, total=8000, insurance_paid=0))
    assert r.status_code == 201 and r.json()["assistance"] == "6800.00"
    assert r.json()["used_before"] == "17000.00"

    listed = worker.get(CLAIMS, {"household": cast.own.pk}).json()
    assert listed["count"] == 2 and listed["items"][0]["assistance"] == "6800.00"
    assert worker.get(CLAIMS, {"household": cast.other_street.pk}).json()["count"] == 0
    got = cast.api(Role.AUDITOR).get(f"{CLAIMS}/{out['id']}")
    assert got.status_code == 200 and got.json() == out
    assert cast.api(Role.RESIDENT).get(CLAIMS).json() == {"items": [], "count": 0}


def test_api_refusals_write_nothing(cast: Cast) -> None:
    entitle(cast.own, "dibao")
    entitle(cast.other_street, "dibao")
    worker = cast.api(Role.COMMUNITY_WORKER)
    cases = [
        (worker, body(cast.own, insurance_paid="50000.01"), 422, "insurance_paid"),
        (worker, body(cast.own, treated_on="2027-01-01"), 422, "treated_on"),
        (worker, body(cast.own, kind="dental"), 422, "kind"),
        (worker, body(cast.own, person=head(cast.other_street).pk), 422, "person"),
        (worker, body(cast.own, band="illness_3"), 422, "band"),
        (worker, body(cast.other_street), 404, None),
        (cast.api(Role.RESIDENT), body(cast.own), 403, None),
        (cast.api(Role.AUDITOR), body(cast.own), 403, None),
    ]
    for client, payload, status, field in cases:
        r = post(client, CLAIMS, payload)
        assert r.status_code == status, (payload, r.content)
        if field is not None:
            assert r.json()["details"]["field"] == field, r.json()
            assert r.json()["message"]  # Chinese, for the user
    # unknown fields are refused, not ignored
    r = post(worker, CLAIMS, body(cast.own, deductible="0"))
    assert r.status_code == 422 and r.json()["code"] == "validation.failed"
    assert Client().get(CLAIMS).status_code == 401
    assert worker.get(f"{CLAIMS}/999999").status_code == 404
    assert MedicalClaim.objects.count() == 0


def test_api_idempotency_key_records_once(cast: Cast) -> None:
    entitle(cast.own, "dibao")
    worker = cast.api(Role.COMMUNITY_WORKER)
    first = post(worker, CLAIMS, body(cast.own), HTTP_IDEMPOTENCY_KEY="bill-2026-001")
    again = post(worker, CLAIMS, body(cast.own), HTTP_IDEMPOTENCY_KEY="bill-2026-001")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert MedicalClaim.objects.count() == 1
    other = post(worker, CLAIMS, body(cast.own, total="1.00", insurance_paid="0"),
                 HTTP_IDEMPOTENCY_KEY="bill-2026-001")  # fmt: skip
    assert other.status_code == 422 and other.json()["code"] == "idempotency.key_reused"


# -- two claims for one person at once (PostgreSQL) ------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="needs PostgreSQL row locks (SQLite has a single writer)")  # fmt: skip
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_claims_cannot_exceed_the_cap(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both claims start together; each alone would get 80 % × 8,000.00 = 6,400.00. The
    person's row lock makes the second read what the first used: 8,000.00 − 6,400.00 =
    1,600.00, so the year's outpatient total is exactly the 8,000.00 cap."""
    entitle(cast.own, "dibao")
    second = user_create(username="u_worker_2", role=Role.COMMUNITY_WORKER,
                         division_code=COMMUNITY_A, password="pw-123456")  # fmt: skip
    barrier = threading.Barrier(2, timeout=30)
    real_person_id, real_used = cascade._person_id, cascade._used_before

    def meet(raw: Any) -> int:
        barrier.wait()  # both are about to open their transaction
        return real_person_id(raw)

    def slow_used(*args: Any) -> Decimal:
        used = real_used(*args)
        time.sleep(0.5)  # without the lock the other claim would read the same figure now
        return used

    monkeypatch.setattr(cascade, "_person_id", meet)
    monkeypatch.setattr(cascade, "_used_before", slow_used)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(actor: User) -> None:
        try:
            results.append(medical_claim_create(
                actor=actor, household_id=cast.own.pk, person_id=head(cast.own).pk,
                kind="outpatient", total="8000", insurance_paid="0", treated_on="2026-10-08",
            ))  # fmt: skip
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(a,))
               for a in (cast.users[Role.COMMUNITY_WORKER], second)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted(f"{c.assistance:.2f}" for c in results) == ["1600.00", "6400.00"]
    assert sum(c.assistance for c in MedicalClaim.objects.all()) == Decimal("8000.00")


def test_application_error_is_the_base(cast: Cast) -> None:
    """Every refusal is an ApplicationError, so the API maps it to {code, message, details}."""
    with pytest.raises(ApplicationError):
        claim(cast, cast.own, total="1", insurance_paid="2")
