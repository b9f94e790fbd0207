"""Dynamic management (动态管理): recertification reviews and standard changes, through
the services and the API, with every amount worked by hand to the fen.

Policy figures used (shared/policy/beijing.yaml): the dibao standard is 1,395.00 from
2023-07 and 1,450.00 from 2024-07; wage income counts as wage − 80 % × standard; gradual
exit keeps 100 % for 3 months, then 50 % for 3 months; a household with a member of
working age who is able to work is reviewed every 6 months (B类), others every 12.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from minzheng.accounts.models import User
from minzheng.benefits import review as rv
from minzheng.benefits.models import (
    Entitlement,
    EntitlementAmount,
    EntitlementEvent,
    Review,
    ReviewClass,
    StandardChange,
    StandardChangeRow,
)
from minzheng.benefits.services import amount_at, entitlement_amount_set
from minzheng.core.errors import ApplicationError
from minzheng.registry.models import Household, Income
from tests.applications.conftest import Clock
from tests.benefits.conftest import entitle, post
from tests.fixtures import COMMUNITY_A, COMMUNITY_B, DONGCHENG, Cast

D = Decimal
NOV, DEC = date(2026, 11, 1), date(2026, 12, 1)


def income(household: Household, kind: str, monthly: str, month: date) -> None:
    person = household.members.get()
    Income.objects.create(person=person, type=kind, monthly=D(monthly), month=month)


def due(ent: Entitlement, on: date = date(2026, 11, 1)) -> Entitlement:
    """Test data: the entitlement's review date (an approval would have set it)."""
    Entitlement.objects.filter(pk=ent.pk).update(next_review_on=on)
    ent.refresh_from_db()
    return ent


def snapshot(ent: Entitlement) -> tuple[Any, ...]:
    """Everything a refused request must leave as it was."""
    ent.refresh_from_db()
    return (
        ent.amount, ent.amount_from, ent.status, ent.end_month, ent.next_review_on,
        ent.dirty_from, ent.version,
        list(EntitlementAmount.objects.filter(entitlement=ent).values_list("from_month", "amount")),
        EntitlementEvent.objects.filter(entitlement=ent).count(),
        list(Review.objects.filter(entitlement=ent).values_list("pk", "outcome", "confirmed_at")),
    )  # fmt: skip


def refused(fn: Callable[..., Any], status: int, code: str, **kwargs: Any) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        fn(**kwargs)
    assert (caught.value.status, caught.value.code) == (status, code), caught.value.as_dict()
    return caught.value


def user(cast: Cast, role: str) -> User:
    return cast.users[role]


# -- reviews due ---------------------------------------------------------------------------------


def test_reviews_due_lists_live_entitlements_in_scope_without_open_review(
    cast: Cast, today: Clock, make_household: Callable[..., Household]
) -> None:
    worker, district = user(cast, "community_worker"), user(cast, "district_approver")
    early = due(entitle(cast.own, "1450.00", date(2026, 1, 1)), date(2026, 7, 1))
    start = date(2026, 1, 1)
    today_ = due(entitle(make_household(COMMUNITY_A), "800.00", start), date(2026, 11, 23))
    later = due(entitle(make_household(COMMUNITY_A), "700.00", start), date(2026, 11, 24))
    entitle(make_household(COMMUNITY_A), "600.00", date(2026, 1, 1))  # no review date
    ended = due(entitle(make_household(COMMUNITY_A), "500.00", date(2026, 1, 1)))
    Entitlement.objects.filter(pk=ended.pk).update(status="ended", end_month=date(2026, 6, 1))
    exiting = due(entitle(make_household(COMMUNITY_A), "400.00", date(2026, 1, 1),
                          end=date(2026, 10, 1)))  # fmt: skip
    street_b = due(entitle(cast.other_street, "900.00", date(2026, 1, 1)))
    dongcheng = due(entitle(cast.other_district, "900.00", date(2026, 1, 1)))

    assert list(rv.reviews_due(worker)) == [early, today_]
    assert list(rv.reviews_due(worker, date(2026, 11, 24))) == [early, today_, later]
    assert set(rv.reviews_due(district)) == {early, today_, street_b}
    assert dongcheng not in rv.reviews_due(district) and exiting not in rv.reviews_due(worker)

    rv.review_run(actor=worker, entitlement_id=early.pk)  # an open review takes it off the list
    assert list(rv.reviews_due(worker)) == [today_]
    for role in ("resident", "service_provider", "department_liaison"):  # staff papers only
        assert not rv.reviews_due(user(cast, role)).exists()
    assert list(rv.reviews_due(user(cast, "auditor"))) == [street_b, today_]  # earliest first


# -- the four proposals and their confirmation ----------------------------------------------------


def test_continue_pushes_the_review_date_only(cast: Cast, today: Clock) -> None:
    worker = user(cast, "community_worker")
    ent = due(entitle(cast.own, "1450.00", date(2026, 1, 1), settled_through=NOV))
    # one member aged 46, no income: 1,450.00 − 0.00 = 1,450.00 (no add-on under 60)
    review = rv.review_run(actor=worker, entitlement_id=ent.pk)
    assert (review.proposed, review.proposed_amount) == ("continue", D("1450.00"))
    assert review.as_of == date(2026, 11, 23) and review.due_on == NOV
    assert review.reasons[0].startswith("复核建议：继续享受")
    assert "低保金 1,450.00 元" in review.reasons  # the engine's reasons follow the summary
    amounts_before = list(EntitlementAmount.objects.filter(entitlement=ent).values_list())

    done = rv.review_confirm(actor=worker, review_id=review.pk, outcome="continue",
                             reason="入户核实，情况无变化")  # fmt: skip
    assert done.outcome == "continue" and done.confirmed_by == worker
    assert done.outcome_amount == D("1450.00") and done.effective_month is None
    ent.refresh_from_db()
    # aged 46 and able to work: B类, every 6 months from November 2026 → May 2027
    assert ent.review_class == ReviewClass.IRREGULAR and ent.next_review_on == date(2027, 5, 1)
    assert (ent.amount, ent.dirty_from) == (D("1450.00"), None)
    assert list(EntitlementAmount.objects.filter(entitlement=ent).values_list()) == amounts_before
    (event,) = EntitlementEvent.objects.filter(entitlement=ent, kind="review")
    assert event.data["review"] == review.pk and event.data["next_review_on"] == "2027-05-01"


def test_adjust_from_a_settled_month_marks_it_dirty(cast: Cast, today: Clock) -> None:
    worker = user(cast, "community_worker")
    ent = due(entitle(cast.own, "1300.00", date(2026, 1, 1), settled_through=NOV))
    review = rv.review_run(actor=worker, entitlement_id=ent.pk)
    # 1,450.00 − 0.00 = 1,450.00 against 1,300.00 paid
    assert (review.proposed, review.proposed_amount) == ("adjust", D("1450.00"))
    assert "现发放 1,300.00 元/月" in review.reasons[0]

    done = rv.review_confirm(actor=worker, review_id=review.pk, outcome="adjust",
                             reason="收入核实后调整", effective_month="2026-11")  # fmt: skip
    assert done.outcome_amount == D("1450.00") and done.effective_month == NOV
    ent.refresh_from_db()
    assert (ent.amount, ent.amount_from) == (D("1450.00"), NOV)
    # November is already settled: the next payroll pays 1,450.00 − 1,300.00 = 150.00 arrears
    assert ent.dirty_from == NOV
    assert list(EntitlementAmount.objects.filter(entitlement=ent).values_list("from_month", "amount")) == [
        (date(2026, 1, 1), D("1300.00")), (NOV, D("1450.00")),
    ]  # fmt: skip
    event = EntitlementEvent.objects.get(entitlement=ent, kind="review")
    assert (event.old_amount, event.new_amount, event.effective_month) == (D("1300.00"), D("1450.00"), NOV)  # fmt: skip
    assert ent.next_review_on == date(2027, 5, 1)


def test_adjust_with_the_workers_amount_from_next_month(cast: Cast, today: Clock) -> None:
    worker = user(cast, "street_reviewer")
    ent = entitle(cast.own, "1300.00", date(2026, 1, 1), settled_through=NOV)
    review = rv.review_run(actor=worker, entitlement_id=ent.pk)
    rv.review_confirm(actor=worker, review_id=review.pk, outcome="adjust", reason="按核实收入",
                      amount="1400.5")  # fmt: skip
    ent.refresh_from_db()
    # from December (the default: the month after today); nothing settled is touched
    assert (ent.amount, ent.amount_from, ent.dirty_from) == (D("1400.50"), DEC, None)
    assert amount_at(ent, NOV) == D("1300.00") and amount_at(ent, DEC) == D("1400.50")


@pytest.mark.parametrize(
    ("paid", "half"),
    [
        ("1234.50", "617.25"),  # 1,234.50 × 50 % = 617.25
        ("1012.51", "506.26"),  # 1,012.51 × 50 % = 506.255 → 506.26 (half up)
    ],
)
def test_gradual_exit_when_a_member_found_work(cast: Cast, today: Clock, paid: str, half: str) -> None:  # fmt: skip
    worker = user(cast, "community_worker")
    ent = due(entitle(cast.own, paid, date(2026, 1, 1), settled_through=NOV))
    # a wage of 3,000.00 counts as 3,000.00 − 80 % × 1,450.00 = 1,840.00 ≥ 1,450.00: not eligible
    income(cast.own, "wage", "3000.00", date(2026, 10, 1))
    review = rv.review_run(actor=worker, entitlement_id=ent.pk)
    assert (review.proposed, review.proposed_amount) == ("gradual_exit", D(paid))
    assert "张三 有工资性收入 3,000.00 元（2026-10）" in review.reasons[0]

    rv.review_confirm(actor=worker, review_id=review.pk, outcome="gradual_exit",
                      reason="本人已就业，按规定渐退")  # fmt: skip
    ent.refresh_from_db()
    # December to February at 100 %, March to May 2027 at 50 %, then nothing
    rows = list(
        EntitlementAmount.objects.filter(entitlement=ent).values_list("from_month", "amount")
    )
    assert rows == [(date(2026, 1, 1), D(paid)), (DEC, D(paid)), (date(2027, 3, 1), D(half))]
    assert ent.end_month == date(2027, 5, 1) and ent.status == "active"
    assert [amount_at(ent, m) for m in (NOV, date(2027, 2, 1), date(2027, 3, 1), date(2027, 5, 1))] == [
        D(paid), D(paid), D(half), D(half),
    ]  # fmt: skip
    assert ent.next_review_on is None and ent.dirty_from is None
    event = EntitlementEvent.objects.get(entitlement=ent, kind="review")
    assert event.data["last_month"] == "2027-05" and event.data["half"] == half


def test_gradual_exit_is_offered_only_for_work(cast: Cast, today: Clock) -> None:
    worker = user(cast, "community_worker")
    ent = entitle(cast.own, "1000.00", date(2026, 1, 1))
    # a pension of 5,000.00 counts in full: above the line, but nobody found work
    income(cast.own, "pension", "5000.00", date(2026, 10, 1))
    review = rv.review_run(actor=worker, entitlement_id=ent.pk)
    assert (review.proposed, review.proposed_amount) == ("stop", D("0.00"))
    assert review.reasons[0].startswith("复核建议：停止发放")


def test_stop_ends_after_the_month_before(cast: Cast, today: Clock) -> None:
    worker = user(cast, "community_worker")
    ent = due(entitle(cast.own, "1000.00", date(2026, 1, 1), settled_through=NOV))
    income(cast.own, "pension", "5000.00", date(2026, 10, 1))
    review = rv.review_run(actor=worker, entitlement_id=ent.pk)
    done = rv.review_confirm(actor=worker, review_id=review.pk, outcome="stop",
                             reason="收入超过低保标准")  # fmt: skip
    assert (done.outcome, done.outcome_amount, done.effective_month) == ("stop", D("0.00"), DEC)
    ent.refresh_from_db()
    assert (ent.status, ent.end_month, ent.next_review_on) == ("ended", NOV, None)
    kinds = list(EntitlementEvent.objects.filter(entitlement=ent).values_list("kind", flat=True))
    assert kinds == ["ended", "review"]


def test_the_worker_may_choose_another_outcome(cast: Cast, today: Clock) -> None:
    """The engine proposes continue; the worker, who visited, stops from November."""
    worker = user(cast, "community_worker")
    ent = entitle(cast.own, "1450.00", date(2026, 1, 1), settled_through=NOV)
    review = rv.review_run(actor=worker, entitlement_id=ent.pk)
    assert review.proposed == "continue"
    rv.review_confirm(actor=worker, review_id=review.pk, outcome="stop",
                      reason="入户发现已迁出本市", effective_month="2026-11")  # fmt: skip
    ent.refresh_from_db()
    # ends after October; November was paid and is recovered by the next payroll
    assert (ent.status, ent.end_month, ent.dirty_from) == ("ended", date(2026, 10, 1), NOV)


# -- refusals ----------------------------------------------------------------------------------------


def test_one_open_review_per_entitlement(cast: Cast, today: Clock) -> None:
    worker = user(cast, "community_worker")
    ent = entitle(cast.own, "1450.00", date(2026, 1, 1))
    first = rv.review_run(actor=worker, entitlement_id=ent.pk)
    err = refused(rv.review_run, 409, "review.already_open", actor=worker, entitlement_id=ent.pk)
    assert err.details == {"review": first.pk} and "未确认的复核" in err.message
    rv.review_confirm(actor=worker, review_id=first.pk, outcome="continue", reason="无变化")
    err = refused(rv.review_confirm, 409, "review.already_confirmed", actor=worker,
                  review_id=first.pk, outcome="continue", reason="再次确认")  # fmt: skip
    second = rv.review_run(actor=worker, entitlement_id=ent.pk)  # a new one once confirmed
    assert second.pk != first.pk and Review.objects.filter(entitlement=ent).count() == 2


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"outcome": "pause"}, 422, "review.outcome_invalid"),
        ({"outcome": ""}, 422, "review.outcome_invalid"),
        ({"reason": "  "}, 422, "benefits.reason_required"),
        ({"effective_month": "2026-10"}, 422, "review.month_in_past"),
        ({"effective_month": "2026-13"}, 422, "entitlement.month_invalid"),
        ({"effective_month": "2026-12-15"}, 422, "entitlement.month_invalid"),
        ({"amount": "1000.00"}, 422, "entitlement.amount_invalid"),  # continue takes no amount
        ({"outcome": "adjust", "amount": "-5"}, 422, "entitlement.amount_invalid"),
        ({"outcome": "adjust", "amount": "0"}, 422, "entitlement.amount_invalid"),
        ({"outcome": "adjust", "amount": "1.234"}, 422, "entitlement.amount_invalid"),
    ],
)
def test_bad_confirmation_changes_nothing(
    cast: Cast, today: Clock, fields: dict[str, Any], status: int, code: str
) -> None:
    worker = user(cast, "community_worker")
    ent = due(entitle(cast.own, "1300.00", date(2026, 1, 1), settled_through=NOV))
    review = rv.review_run(actor=worker, entitlement_id=ent.pk)
    before = snapshot(ent)
    args = {"outcome": "continue", "reason": "核实", **fields}
    refused(rv.review_confirm, status, code, actor=worker, review_id=review.pk, **args)
    assert snapshot(ent) == before


def test_gradual_exit_only_for_dibao(cast: Cast, today: Clock) -> None:
    worker = user(cast, "community_worker")
    ent = entitle(cast.own, "300.00", date(2026, 1, 1), programme="age_allowance")
    review = Review.objects.create(entitlement=ent, as_of=today.day, proposed="continue",
                                   proposed_amount=D("300.00"))  # fmt: skip
    before = snapshot(ent)
    refused(rv.review_confirm, 422, "review.outcome_invalid", actor=worker, review_id=review.pk,
            outcome="gradual_exit", reason="就业")  # fmt: skip
    assert snapshot(ent) == before


def test_ended_entitlement_is_not_reviewed(cast: Cast, today: Clock) -> None:
    worker = user(cast, "community_worker")
    ent = entitle(cast.own, "1450.00", date(2026, 1, 1))
    review = rv.review_run(actor=worker, entitlement_id=ent.pk)
    Entitlement.objects.filter(pk=ent.pk).update(status="ended", end_month=date(2026, 6, 1))
    refused(rv.review_run, 409, "entitlement.ended", actor=worker, entitlement_id=ent.pk)
    refused(rv.review_confirm, 409, "entitlement.ended", actor=worker, review_id=review.pk,
            outcome="continue", reason="核实")  # fmt: skip
    assert Review.objects.get(pk=review.pk).confirmed_at is None


def test_review_scope_and_roles(cast: Cast, today: Clock) -> None:
    worker = user(cast, "community_worker")
    ent = entitle(cast.own, "1450.00", date(2026, 1, 1))
    far = entitle(cast.other_district, "1450.00", date(2026, 1, 1))
    street_b = entitle(cast.other_street, "1450.00", date(2026, 1, 1))
    refused(rv.review_run, 404, "entitlement.not_found", actor=worker, entitlement_id=far.pk)
    refused(rv.review_run, 404, "entitlement.not_found", actor=worker, entitlement_id=street_b.pk)
    refused(rv.review_run, 404, "entitlement.not_found", actor=worker, entitlement_id=10**9)
    # those who see the entitlement but may only read: 403; those who do not see it: 404
    for role in ("resident", "auditor", "admin"):
        refused(rv.review_run, 403, "benefits.role_forbidden", actor=user(cast, role),
                entitlement_id=ent.pk)  # fmt: skip
    for role in ("department_liaison", "service_provider"):
        refused(rv.review_run, 404, "entitlement.not_found", actor=user(cast, role),
                entitlement_id=ent.pk)  # fmt: skip
    refused(rv.review_run, 404, "entitlement.not_found", actor=user(cast, "auditor"),
            entitlement_id=far.pk)  # fmt: skip
    far_review = rv.review_run(actor=user(cast, "district_approver"), entitlement_id=street_b.pk)
    refused(rv.review_confirm, 404, "review.not_found", actor=worker, review_id=far_review.pk,
            outcome="continue", reason="核实")  # fmt: skip
    refused(rv.review_confirm, 404, "review.not_found", actor=user(cast, "resident"),
            review_id=far_review.pk, outcome="continue", reason="核实")  # fmt: skip
    refused(rv.review_confirm, 403, "benefits.role_forbidden", actor=user(cast, "auditor"),
            review_id=far_review.pk, outcome="continue", reason="核实")  # fmt: skip
    assert Review.objects.count() == 1 and not EntitlementEvent.objects.exists()


# -- standard changes -----------------------------------------------------------------------------


JULY, SEPT = date(2024, 7, 1), date(2024, 9, 1)


@pytest.fixture
def book(cast: Cast, make_household: Callable[..., Household]) -> dict[str, Entitlement]:
    """Dibao entitlements of Xicheng paid under the 1,395.00 standard, and one in Dongcheng."""
    zero = entitle(cast.own, "1395.00", date(2024, 1, 1), settled_through=SEPT)
    pensioner = make_household(COMMUNITY_A, "钱六")
    income(pensioner, "pension", "600.00", date(2024, 1, 1))
    # 1,395.00 − 600.00 = 795.00; the payroll has settled only through June
    part = entitle(pensioner, "795.00", date(2024, 1, 1), settled_through=date(2024, 6, 1))
    income(cast.other_street, "pension", "5000.00", date(2024, 1, 1))
    gone = entitle(cast.other_street, "1000.00", date(2024, 1, 1), settled_through=SEPT)
    # decided in August under the new standard already: nothing to change
    new = entitle(make_household(COMMUNITY_B, "孙七"), "1450.00", date(2024, 8, 1),
                  settled_through=SEPT)  # fmt: skip
    far = entitle(cast.other_district, "1395.00", date(2024, 1, 1), settled_through=SEPT)
    return {"zero": zero, "part": part, "gone": gone, "new": new, "far": far}


def test_standard_change_recomputes_the_district(cast: Cast, book: dict[str, Entitlement]) -> None:
    district = user(cast, "district_approver")
    before_far = snapshot(book["far"])
    before_gone = snapshot(book["gone"])
    change = rv.standard_change_apply(actor=district, programme="dibao", effective_month="2024-07",
                                      reason="京民社救发〔2024〕80号")  # fmt: skip
    assert change.applied and change.division == district.division
    rows = {r.entitlement_id: r for r in StandardChangeRow.objects.filter(change=change)}
    assert set(rows) == {book["zero"].pk, book["part"].pk, book["gone"].pk}

    # no income, aged 44 in 2024: 1,450.00 − 0.00 = 1,450.00 (was 1,395.00);
    # July, August and September were paid: 3 × 55.00 = 165.00 arrears
    zero = rows[book["zero"].pk]
    assert (zero.old_amount, zero.new_amount, zero.months_back, zero.arrears, zero.note) == (
        D("1395.00"), D("1450.00"), 3, D("165.00"), "",
    )  # fmt: skip
    # pension 600.00: 1,450.00 − 600.00 = 850.00 (was 795.00); July not paid yet: no arrears
    part = rows[book["part"].pk]
    assert (part.old_amount, part.new_amount, part.months_back, part.arrears) == (
        D("795.00"), D("850.00"), 0, D("0.00"),
    )  # fmt: skip
    gone = rows[book["gone"].pk]
    assert gone.note == "需复核：按新标准不再符合条件" and gone.new_amount == gone.old_amount
    # two changed: 55.00 + 55.00 = 110.00 a month; 165.00 + 0.00 arrears
    assert (change.affected, change.monthly_difference, change.arrears_total) == (
        2, D("110.00"), D("165.00"),
    )  # fmt: skip

    ent = Entitlement.objects.get(pk=book["zero"].pk)
    assert (ent.amount, ent.amount_from, ent.dirty_from) == (D("1450.00"), JULY, JULY)
    assert amount_at(ent, date(2024, 6, 1)) == D("1395.00") and amount_at(ent, JULY) == D("1450.00")
    event = EntitlementEvent.objects.get(entitlement=ent, kind="standard")
    assert event.data == {"standard_change": change.pk, "months_back": 3, "arrears": "165.00"}
    ent = Entitlement.objects.get(pk=book["part"].pk)
    assert (ent.amount, ent.dirty_from) == (D("850.00"), None)
    assert snapshot(book["far"]) == before_far and snapshot(book["gone"]) == before_gone

    out = rv.standard_change_out(change, rows_limit=1)
    assert out["affected"] == 2 and out["needs_review"] == 1 and out["row_count"] == 3
    assert out["arrears_total"] == "165.00" and len(out["rows"]) == 1


def test_standard_change_preview_then_confirm(
    cast: Cast, book: dict[str, Entitlement], today: Clock
) -> None:
    district = user(cast, "district_approver")
    before = {k: snapshot(e) for k, e in book.items()}
    preview = rv.standard_change_apply(actor=district, programme="dibao",
                                       effective_month="2024-07", reason="新标准", dry_run=True)  # fmt: skip
    assert not preview.applied and preview.affected == 2 and preview.arrears_total == D("165.00")
    assert preview.rows.count() == 3
    assert {k: snapshot(e) for k, e in book.items()} == before  # a preview changes nothing

    # the payroll settles October before the approver confirms: one more month of arrears
    Entitlement.objects.filter(pk=book["zero"].pk).update(settled_through=date(2024, 10, 1))
    done = rv.standard_change_confirm(actor=district, change_id=preview.pk, reason="同意执行")
    # 4 × 55.00 = 220.00
    assert done.applied and (done.affected, done.arrears_total) == (2, D("220.00"))
    row = StandardChangeRow.objects.get(change=done, entitlement=book["zero"])
    assert (row.months_back, row.arrears) == (4, D("220.00"))
    assert Entitlement.objects.get(pk=book["zero"].pk).amount == D("1450.00")
    assert Entitlement.objects.get(pk=book["part"].pk).amount == D("850.00")
    event = EntitlementEvent.objects.get(entitlement=book["zero"], kind="standard")
    assert "同意执行" in event.reason and event.actor == district
    refused(rv.standard_change_confirm, 409, "standard_change.already_applied", actor=district,
            change_id=preview.pk, reason="再次执行")  # fmt: skip


def test_stale_preview_is_refused_whole(cast: Cast, book: dict[str, Entitlement]) -> None:
    district = user(cast, "district_approver")
    preview = rv.standard_change_apply(actor=district, programme="dibao",
                                       effective_month="2024-07", reason="新标准", dry_run=True)  # fmt: skip
    entitlement_amount_set(actor=district, entitlement_id=book["part"].pk, from_month="2024-07",
                           amount="700.00", reason="更正")  # fmt: skip
    before = {k: snapshot(e) for k, e in book.items()}
    err = refused(rv.standard_change_confirm, 409, "standard_change.stale", actor=district,
                  change_id=preview.pk, reason="同意")  # fmt: skip
    assert err.details == {"entitlements": [book["part"].pk]}
    assert {k: snapshot(e) for k, e in book.items()} == before
    assert not StandardChange.objects.get(pk=preview.pk).applied


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"programme": "nope"}, 422, "standard_change.programme_invalid"),
        ({"programme": "preferential_card"}, 422, "standard_change.programme_invalid"),
        ({"effective_month": "2024/07"}, 422, "entitlement.month_invalid"),
        ({"reason": ""}, 422, "benefits.reason_required"),
    ],
)
def test_bad_standard_change_changes_nothing(
    cast: Cast, book: dict[str, Entitlement], fields: dict[str, Any], status: int, code: str
) -> None:
    before = {k: snapshot(e) for k, e in book.items()}
    args = {"programme": "dibao", "effective_month": "2024-07", "reason": "新标准", **fields}
    refused(rv.standard_change_apply, status, code, actor=user(cast, "district_approver"), **args)
    assert {k: snapshot(e) for k, e in book.items()} == before
    assert not StandardChange.objects.exists()


def test_standard_change_roles_and_scope(cast: Cast, book: dict[str, Entitlement]) -> None:
    for role in ("community_worker", "street_reviewer", "auditor", "resident", "admin"):
        refused(rv.standard_change_apply, 403, "benefits.role_forbidden", actor=user(cast, role),
                programme="dibao", effective_month="2024-07", reason="新标准")  # fmt: skip
    preview = rv.standard_change_apply(actor=user(cast, "district_approver"), programme="dibao",
                                       effective_month="2024-07", reason="新标准", dry_run=True)  # fmt: skip
    # the auditor of the district reads it but may not confirm it; a street reviewer's
    # jurisdiction lies below the district's: not found
    assert rv.standard_change_get(user(cast, "auditor"), preview.pk) == preview
    refused(rv.standard_change_confirm, 403, "benefits.role_forbidden",
            actor=user(cast, "auditor"), change_id=preview.pk, reason="同意")  # fmt: skip
    for role in ("street_reviewer", "resident", "service_provider"):
        refused(rv.standard_change_confirm, 404, "standard_change.not_found",
                actor=user(cast, role), change_id=preview.pk, reason="同意")  # fmt: skip
    from minzheng.accounts.services import user_create

    dongcheng = user_create(username="u_dc", role="district_approver", division_code=DONGCHENG,
                            password="pw-123456")  # fmt: skip
    refused(rv.standard_change_confirm, 404, "standard_change.not_found", actor=dongcheng,
            change_id=preview.pk, reason="同意")  # fmt: skip
    assert not StandardChange.objects.get(pk=preview.pk).applied


# -- the API ---------------------------------------------------------------------------------------


@pytest.fixture
def mounted() -> None:
    from minzheng.benefits.api_review import router
    from minzheng.config.api import api

    if not any(r is router for _, r in api._routers):
        pytest.fail("mount minzheng.benefits.api_review.router in minzheng/config/api.py")


def test_api_review_round_trip(cast: Cast, today: Clock, mounted: None) -> None:
    worker = cast.api("community_worker")
    ent = due(entitle(cast.own, "1300.00", date(2026, 1, 1), settled_through=NOV))
    far = due(entitle(cast.other_district, "1300.00", date(2026, 1, 1)))

    body = worker.get("/api/v1/reviews?due=true").json()
    assert body["count"] == 1 and body["items"][0]["entitlement"] == ent.pk
    assert body["items"][0]["next_review_on"] == "2026-11-01"

    r = worker.post(f"/api/v1/entitlements/{ent.pk}/reviews")
    assert r.status_code == 201, r.content
    review = r.json()
    assert (review["proposed"], review["proposed_amount"], review["open"]) == ("adjust", "1450.00", True)  # fmt: skip
    again = worker.post(f"/api/v1/entitlements/{ent.pk}/reviews").json()
    assert again["code"] == "review.already_open"
    assert worker.get("/api/v1/reviews?due=true").json()["count"] == 0
    assert worker.get("/api/v1/reviews?open=true").json()["count"] == 1

    path = f"/api/v1/reviews/{review['id']}/confirmation"
    r = post(worker, path, {"outcome": "adjust", "reason": "核实", "note": "x"})
    assert r.status_code == 422 and r.json()["code"] == "validation.failed"  # unknown field
    r = post(worker, path, {"outcome": "adjust", "reason": "核实", "effective_month": "2026-09"})
    assert r.status_code == 422 and r.json()["details"] == {"field": "effective_month"}
    r = post(worker, path, {"outcome": "adjust", "reason": "收入核实后调整"})
    assert r.status_code == 200, r.content
    done = r.json()
    assert (done["outcome"], done["outcome_amount"], done["effective_month"]) == ("adjust", "1450.00", "2026-12")  # fmt: skip
    assert done["open"] is False and done["confirmed_by"] == "u_community_worker"
    assert done["entitlement"]["amount"] == "1450.00"
    assert post(worker, path, {"outcome": "continue", "reason": "x"}).status_code == 409
    assert worker.get(f"/api/v1/reviews/{review['id']}").json()["outcome_label"] == "调整金额"

    assert worker.post(f"/api/v1/entitlements/{far.pk}/reviews").status_code == 404
    for role in ("resident", "auditor"):
        r = cast.api(role).post(f"/api/v1/entitlements/{ent.pk}/reviews")
        assert r.status_code == 403 and r.json()["code"] == "benefits.role_forbidden"
    assert cast.api("resident").get("/api/v1/reviews").json()["count"] == 0
    assert cast.api("auditor").get("/api/v1/reviews").json()["count"] == 1
    assert worker.get("/api/v1/reviews?page=0").status_code == 422


def test_api_standard_change(cast: Cast, book: dict[str, Entitlement], mounted: None) -> None:
    district = cast.api("district_approver")
    body = {"programme": "dibao", "effective_month": "2024-07", "reason": "京民社救发〔2024〕80号",
            "dry_run": True}  # fmt: skip
    r = post(district, "/api/v1/standard-changes", body)
    assert r.status_code == 201, r.content
    preview = r.json()
    assert (preview["applied"], preview["affected"], preview["needs_review"]) == (False, 2, 1)
    assert (preview["monthly_difference"], preview["arrears_total"]) == ("110.00", "165.00")
    assert preview["effective_month"] == "2024-07" and preview["row_count"] == 3
    zero = next(row for row in preview["rows"] if row["entitlement"] == book["zero"].pk)
    assert zero == {"entitlement": book["zero"].pk,
                    "household": {"id": cast.own.pk, "number": cast.own.number},
                    "old_amount": "1395.00", "new_amount": "1450.00", "months_back": 3,
                    "arrears": "165.00", "note": ""}  # fmt: skip

    assert post(district, "/api/v1/standard-changes", {**body, "extra": 1}).status_code == 422
    r = post(cast.api("community_worker"), "/api/v1/standard-changes", body)
    assert r.status_code == 403
    assert cast.api("auditor").get(f"/api/v1/standard-changes/{preview['id']}").status_code == 200
    assert cast.api("street_reviewer").get(f"/api/v1/standard-changes/{preview['id']}").status_code == 404  # fmt: skip

    path = f"/api/v1/standard-changes/{preview['id']}/confirmation"
    assert post(district, path, {}).status_code == 422
    r = post(district, path, {"reason": "同意执行"})
    assert r.status_code == 200, r.content
    assert r.json()["applied"] is True
    assert Entitlement.objects.get(pk=book["zero"].pk).amount == D("1450.00")
    r = post(district, path, {"reason": "同意执行"})
    assert r.status_code == 409 and r.json()["code"] == "standard_change.already_applied"
