"""Proactive discovery (主动服务): the pure dataframe comparison, then runs over the cast's
households, dismissal, conversion into an application (with a fresh check), the report
per street, and who may see and act on an item.

Amounts, worked by hand from src/minzheng/policy/parameters/ (as of 2026-11-23):

- dibao standard 1,450.00 a month per person (dibao/standard.yaml, from 2024-07-01);
  a member aged 60 or over adds 25 % of the standard, 362.50 (dibao/addon_rate.yaml,
  dibao/addon_ages.yaml); a pension counts in full (general/income_counted.yaml).
- a cast household (one member born 1980, no income, no assets): 1,450.00 − 0.00 = 1,450.00.
- a pensioner born 1950–1952 with 800.00: 1,450.00 − 800.00 = 650.00, + 362.50 = 1,012.50;
  with 900.00: 550.00 + 362.50 = 912.50; with 2,000.00 the income exceeds the standard:
  no dibao. Aged 74–76 the pensioner also qualifies for the elderly service subsidy (300.00)
  and the preferential card (65+, no amount); not for the age allowance (from 80).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import polars as pl
import pytest
from django.test import Client

from minzheng.accounts.roles import Role
from minzheng.applications.models import Application, ApplicationLine
from minzheng.benefits.models import Entitlement
from minzheng.casework import discovery
from minzheng.casework.models import DiscoveryItem, DiscoveryRun, DiscoveryRunStatus
from minzheng.core.errors import ApplicationError
from minzheng.registry.models import Household
from tests.applications.conftest import Clock, post
from tests.benefits.conftest import entitle
from tests.fixtures import DONGCHENG, Cast, pensioner

AS_OF = date(2026, 11, 23)
ROLES = [str(r) for r in Role]
READERS = {"community_worker", "street_reviewer", "district_approver", "auditor", "admin"}
WRITERS = {"community_worker", "street_reviewer", "district_approver"}
ELDERLY = {"elderly_service_subsidy": "300.00", "preferential_card": "0.00"}


# -- compare: the pure comparison -------------------------------------------------------------------

PAIR = {"household": pl.Int64, "programme": pl.Utf8}
ELIGIBLE = {**PAIR, "amount": pl.Utf8, "unit": pl.Utf8, "facts": pl.Utf8}


def eligible(*rows: tuple[int, str, str]) -> pl.DataFrame:
    """(household, programme, facts); the amount is the facts' label, for the refresh."""
    return pl.DataFrame(
        [(h, p, f"amount-{f}", "yuan/month", f) for h, p, f in rows], schema=ELIGIBLE,
        orient="row",
    )  # fmt: skip


def pairs(*rows: tuple[int, str]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=PAIR, orient="row")


def dismissed(*rows: tuple[int, str, str]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema={**PAIR, "facts": pl.Utf8}, orient="row")


def open_items(*rows: tuple[int, int, str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        list(rows), schema={"item": pl.Int64, **PAIR, "facts": pl.Utf8}, orient="row"
    )


def keys(frame: pl.DataFrame) -> set[tuple[int, str]]:
    return set(frame.select("household", "programme").iter_rows())


def test_compare_leaves_out_receiving_and_applied_pairs() -> None:
    result = discovery.compare(
        eligible((1, "dibao", "a"), (2, "dibao", "b"), (3, "dibao", "c"), (4, "dibao", "d"),
                 (1, "age_allowance", "e")),
        # household 1 receives dibao (listed twice: an entitlement and an approval); 9
        # receives but is no longer eligible (not counted); 4 receives and has applied
        pairs((1, "dibao"), (1, "dibao"), (4, "dibao"), (9, "dibao")),
        pairs((2, "dibao"), (4, "dibao")),
        dismissed(),
        open_items(),
    )  # fmt: skip
    # 4 counts once, as receiving
    assert result.counts == {"eligible": 5, "receiving": 2, "applied": 1, "dismissed_unchanged": 0}
    assert keys(result.new) == {(3, "dibao"), (1, "age_allowance")}
    assert result.new.columns == list(ELIGIBLE)
    assert result.new.filter(pl.col("household") == 3).row(0, named=True)["facts"] == "c"
    assert result.refresh.height == 0 and result.seen == []
    assert result.resolved == {"receiving": [], "applied": [], "gone": []}


def test_compare_keeps_a_dismissal_until_the_facts_change() -> None:
    result = discovery.compare(
        eligible((1, "dibao", "same"), (2, "dibao", "new"), (3, "card", "x")),
        pairs(), pairs(),
        # 1: dismissed with the same facts; 2: dismissed when the facts were different;
        # 3: a dismissal of another programme does not hide the card
        dismissed((1, "dibao", "same"), (2, "dibao", "old"), (3, "dibao", "x")),
        open_items(),
    )  # fmt: skip
    assert result.counts["dismissed_unchanged"] == 1
    assert keys(result.new) == {(2, "dibao"), (3, "card")}
    assert result.new.filter(pl.col("household") == 2).row(0, named=True)["facts"] == "new"


def test_compare_sorts_open_items_into_seen_refresh_and_resolved() -> None:
    result = discovery.compare(
        eligible((1, "dibao", "f1"), (2, "dibao", "f2-new"), (3, "dibao", "f3"),
                 (6, "dibao", "f6")),
        pairs((6, "dibao"), (8, "dibao")),  # receiving
        pairs((7, "dibao"), (8, "dibao")),  # applied
        dismissed(),
        open_items(
            (10, 1, "dibao", "f1"),  # found again, same facts
            (11, 2, "dibao", "f2-old"),  # found again, the facts changed
            (12, 5, "dibao", "f5"),  # no longer eligible
            (13, 6, "dibao", "f6"),  # still eligible, but now receiving
            (14, 7, "dibao", "f7"),  # now applied (and no longer in the eligible frame)
            (15, 8, "dibao", "f8"),  # both: receiving wins
        ),
    )  # fmt: skip
    assert result.seen == [10]
    assert result.refresh.select("item", "amount", "facts").to_dicts() == [
        {"item": 11, "amount": "amount-f2-new", "facts": "f2-new"}
    ]
    assert keys(result.new) == {(3, "dibao")}  # an open item is never duplicated
    assert {cause: sorted(ids) for cause, ids in result.resolved.items()} == {
        "receiving": [13, 15], "applied": [14], "gone": [12],
    }  # fmt: skip
    assert result.counts == {"eligible": 4, "receiving": 1, "applied": 0, "dismissed_unchanged": 0}


def test_compare_of_nothing_is_nothing() -> None:
    result = discovery.compare(eligible(), pairs(), pairs(), dismissed(), open_items())
    assert result.new.height == result.refresh.height == 0
    assert result.counts == {"eligible": 0, "receiving": 0, "applied": 0, "dismissed_unchanged": 0}


# -- runs over the registry ---------------------------------------------------------------------------


def found(status: str = "open") -> dict[tuple[int, str], str]:
    """(household, programme) → amount of the items with ``status``."""
    return {
        (i.household_id, i.programme): f"{i.amount:.2f}"
        for i in DiscoveryItem.objects.filter(status=status)
    }


def apply_for(api: Callable[[str], Client], household: Household, programme: str) -> Any:
    r = post(api("community_worker"), "/api/v1/applications",
             {"household": household.pk, "programmes": [programme], "include_suggested": False})  # fmt: skip
    assert r.status_code == 201, r.content
    return r.json()


def set_pension(api: Callable[[str], Client], household: Household, monthly: str) -> None:
    person = household.members.get()
    body = {"reason": "养老金调整，按社保数据更新",
            "members": [{"person_id": person.pk,
                         "incomes": [{"type": "pension", "monthly": monthly}]}]}  # fmt: skip
    r = api("community_worker").patch(
        f"/api/v1/households/{household.pk}", data=json.dumps(body),
        content_type="application/json",
    )  # fmt: skip
    assert r.status_code == 200, r.content


def item(household: Household, programme: str = "dibao", status: str = "open") -> DiscoveryItem:
    return DiscoveryItem.objects.get(household=household, programme=programme, status=status)


def test_a_run_finds_who_neither_receives_nor_has_applied(
    cast: Cast, api: Callable[[str], Client], today: Clock
) -> None:
    elder = pensioner("800.00", "11010219500101123")
    receiving = pensioner("800.00", "11010219510202234")
    applied = pensioner("800.00", "11010219520303345")
    entitle(receiving, "1012.50", date(2026, 1, 1))
    apply_for(api, applied, "dibao")

    run = discovery.discovery_run(None, as_of=AS_OF)
    assert run.status == DiscoveryRunStatus.DONE and run.division is None
    expected = {
        (cast.own.pk, "dibao"): "1450.00",  # 1,450.00 − no income
        (cast.other_street.pk, "dibao"): "1450.00",
        (cast.other_district.pk, "dibao"): "1450.00",
        (elder.pk, "dibao"): "1012.50",  # 1,450.00 − 800.00 + 362.50
        **{(h.pk, p): a for h in (elder, receiving, applied) for p, a in ELDERLY.items()},
    }
    assert found() == expected  # no dibao for the recipient nor for the applicant
    # six households; 4 dibao + 3 × 2 elderly programmes + the two dibao left out
    assert (run.households, run.eligible, run.receiving, run.applied) == (6, 12, 1, 1)
    assert (run.new_items, run.refreshed_items, run.resolved_items) == (10, 0, 0)
    dibao = item(elder)
    assert dibao.division_path == elder.division.path and dibao.found_on == AS_OF
    assert dibao.unit == "yuan/month" and "低保金 1,012.50 元" in dibao.reasons
    assert dibao.found_run == dibao.seen_run == run

    # again: nothing new, nothing duplicated, every open item seen by the second run
    again = discovery.discovery_run(None, as_of=AS_OF)
    assert (again.new_items, again.refreshed_items, again.resolved_items) == (0, 0, 0)
    assert DiscoveryItem.objects.count() == 10 and found() == expected
    assert set(DiscoveryItem.objects.values_list("seen_run", flat=True)) == {again.pk}
    assert set(DiscoveryItem.objects.values_list("found_run", flat=True)) == {run.pk}

    # the recipient's entitlement ends and the applicant's application is withdrawn...
    Entitlement.objects.filter(household=receiving).update(status="ended")
    ApplicationLine.objects.filter(household=applied).update(state="withdrawn")
    # ...while the elder now receives dibao and the own household has applied
    entitle(elder, "1012.50", date(2026, 11, 1))
    apply_for(api, cast.own, "dibao")
    third = discovery.discovery_run(None, as_of=AS_OF)
    assert (third.new_items, third.resolved_items) == (2, 2)
    assert found()[(receiving.pk, "dibao")] == found()[(applied.pk, "dibao")] == "1012.50"
    resolved = {(i.household_id, i.reason) for i in DiscoveryItem.objects.filter(status="resolved")}
    assert resolved == {(elder.pk, "已在享受该项目"), (cast.own.pk, "已提出申请")}


def test_a_dismissed_item_stays_away_until_the_facts_change(
    cast: Cast, api: Callable[[str], Client], today: Clock
) -> None:
    elder = pensioner("800.00", "11010219500101123")
    discovery.discovery_run(None, as_of=AS_OF)
    worker = api("community_worker")
    target = item(elder)

    for body in ({"reason": ""}, {"reason": "无"}, {}):  # empty, one character, missing
        r = post(worker, f"/api/v1/discovery/items/{target.pk}/dismissal", body)
        assert r.status_code == 422, body
    assert item(elder).pk == target.pk  # still open
    r = post(worker, f"/api/v1/discovery/items/{target.pk}/dismissal",
             {"reason": "本人表示子女每月接济，暂不申请"})  # fmt: skip
    assert r.status_code == 200, r.content
    out = r.json()
    assert (out["status"], out["reason"], out["amount"]) == (
        "dismissed", "本人表示子女每月接济，暂不申请", "1012.50",
    )  # fmt: skip
    assert out["decided_at"] is not None
    target.refresh_from_db()
    assert target.decided_by == cast.users["community_worker"]
    r = post(worker, f"/api/v1/discovery/items/{target.pk}/dismissal", {"reason": "再次排除"})
    assert r.status_code == 409 and r.json()["code"] == "discovery.already_decided"

    run = discovery.discovery_run(None, as_of=AS_OF)
    assert (run.dismissed_unchanged, run.new_items) == (1, 0)
    assert (elder.pk, "dibao") not in found()

    # the pension rises to 900.00: 1,450.00 − 900.00 + 362.50 = 912.50, new facts
    set_pension(api, elder, "900.00")
    run = discovery.discovery_run(None, as_of=AS_OF)
    assert (run.dismissed_unchanged, run.new_items) == (0, 1)
    back = item(elder)
    assert back.pk != target.pk and f"{back.amount:.2f}" == "912.50"
    assert back.found_run == run and "低保金 912.50 元" in back.reasons
    assert item(elder, status="dismissed").pk == target.pk  # the dismissal is kept


def test_convert_creates_the_application_after_a_fresh_check(
    cast: Cast, api: Callable[[str], Client], today: Clock
) -> None:
    elder = pensioner("800.00", "11010219500101123")
    discovery.discovery_run(None, as_of=AS_OF)
    worker = api("community_worker")
    own = item(cast.own)

    r = post(worker, f"/api/v1/discovery/items/{own.pk}/conversion", {"note": "入户核实后转申请"})
    assert r.status_code == 201, r.content
    out = r.json()
    application = Application.objects.get(pk=out["application"])
    assert (out["status"], out["amount"]) == ("converted", "1450.00")
    assert out["reason"] == f"转为申请 {application.number}"
    assert application.household_id == cast.own.pk
    assert application.note == "主动发现：最低生活保障；入户核实后转申请"
    (line,) = application.lines.all()
    assert (line.programme, line.state, line.requested) == ("dibao", "submitted", True)
    assert f"{line.estimated_amount:.2f}" == "1450.00"
    own.refresh_from_db()
    assert (own.status, own.application_id) == ("converted", application.pk)
    assert own.decided_by == cast.users["community_worker"]

    for action, body in (("conversion", {}), ("dismissal", {"reason": "重复操作"})):
        r = post(worker, f"/api/v1/discovery/items/{own.pk}/{action}", body)
        assert (r.status_code, r.json()["code"]) == (409, "discovery.already_decided")
    assert Application.objects.count() == 1

    # stale: the elder's pension is now 2,000.00 (above the 1,450.00 standard), and no
    # run has looked since: the item is closed and no application is made
    set_pension(api, elder, "2000.00")
    stale = item(elder)
    r = post(worker, f"/api/v1/discovery/items/{stale.pk}/conversion", {})
    assert r.status_code == 409, r.content
    assert r.json()["code"] == "discovery.stale" and r.json()["details"]["cause"] == "gone"
    stale.refresh_from_db()
    assert (stale.status, stale.reason, stale.application_id) == (
        "resolved", "复核时已不符合条件", None,
    )  # fmt: skip
    assert Application.objects.count() == 1

    # stale: the other street's household has since been granted dibao
    entitle(cast.other_street, "1450.00", date(2026, 11, 1))
    granted = item(cast.other_street)
    r = post(api("district_approver"), f"/api/v1/discovery/items/{granted.pk}/conversion", {})
    assert (r.status_code, r.json()["details"]["cause"]) == (409, "receiving")
    granted.refresh_from_db()
    assert (granted.status, granted.reason) == ("resolved", "已在享受该项目")

    # a street reviewer may act on items but takes no applications in: refused, and the
    # item stays open (the application workflow's own rule)
    card = item(elder, "preferential_card")
    r = post(api("street_reviewer"), f"/api/v1/discovery/items/{card.pk}/conversion", {})
    assert (r.status_code, r.json()["code"]) == (403, "application.intake_forbidden")
    assert item(elder, "preferential_card").pk == card.pk and Application.objects.count() == 1

    # an item whose household has applied in the meantime
    r = post(worker, "/api/v1/applications", {"household": elder.pk,
                                              "programmes": ["preferential_card"],
                                              "include_suggested": False})  # fmt: skip
    assert r.status_code == 201
    r = post(worker, f"/api/v1/discovery/items/{card.pk}/conversion", {})
    assert (r.status_code, r.json()["details"]["cause"]) == (409, "applied")
    assert Application.objects.count() == 2


def test_discovery_add_refuses_a_second_open_item(cast: Cast, today: Clock) -> None:
    run = DiscoveryRun.objects.create(as_of=AS_OF, status=DiscoveryRunStatus.DONE)
    path = cast.own.division.path
    args: dict[str, Any] = {"run": run, "household_id": cast.own.pk, "programme": "dibao",
                            "amount": "1450.00", "unit": "yuan/month", "reasons": ["部门推送"],
                            "path": path}  # fmt: skip
    first = discovery.discovery_add(**args)
    assert first.facts == discovery.facts_of("dibao", "1450.00") == "dibao:1450.00"
    with pytest.raises(ApplicationError) as caught:
        discovery.discovery_add(**{**args, "amount": "1000.00"})
    assert (caught.value.status, caught.value.code) == (409, "discovery.duplicate")
    assert DiscoveryItem.objects.count() == 1
    # another programme, or after the first is decided, is fine
    discovery.discovery_add(**{**args, "programme": "temporary_assistance"})
    discovery.discovery_dismiss(actor=cast.users["community_worker"], item_id=first.pk,
                                reason="已核实不符合")  # fmt: skip
    discovery.discovery_add(**args)
    assert DiscoveryItem.objects.filter(status="open").count() == 2


def test_a_run_already_running_refuses_another(
    cast: Cast, api: Callable[[str], Client], today: Clock
) -> None:
    DiscoveryRun.objects.create(as_of=AS_OF)  # running, started just now
    r = post(api("community_worker"), "/api/v1/discovery/runs", {})
    assert (r.status_code, r.json()["code"]) == (409, "discovery.run_in_progress")
    assert DiscoveryRun.objects.count() == 1


# -- the report per street ------------------------------------------------------------------------------


def test_report_counts_per_street(cast: Cast, api: Callable[[str], Client], today: Clock) -> None:
    elder = pensioner("800.00", "11010219500101123")
    discovery.discovery_run(None, as_of=AS_OF)
    worker, district = api("community_worker"), api("district_approver")
    post(worker, f"/api/v1/discovery/items/{item(cast.own).pk}/conversion", {})
    post(worker, f"/api/v1/discovery/items/{item(elder, 'elderly_service_subsidy').pk}/dismissal",
         {"reason": "已享受其他养老服务"})  # fmt: skip

    r = district.get("/api/v1/discovery/report")
    assert r.status_code == 200, r.content
    assert r.json() == {
        "count": 2,
        "items": [
            # 西长安街: the other street's dibao item, still open
            {"street": "110102001", "name": "西长安街街道", "found": 1, "open": 1,
             "converted": 0, "dismissed": 0, "resolved": 0, "conversion_rate": 0.0},
            # 展览路: own's dibao (converted), the elder's dibao and card (open) and
            # service subsidy (dismissed): 1 of 4 converted
            {"street": "110102009", "name": "展览路街道", "found": 4, "open": 2,
             "converted": 1, "dismissed": 1, "resolved": 0, "conversion_rate": 0.25},
        ],
    }  # fmt: skip
    # the worker's community lies in 展览路 only; Dongcheng's item is nobody's here
    assert [row["street"] for row in worker.get("/api/v1/discovery/report").json()["items"]] == [
        "110102009"
    ]
    within = district.get("/api/v1/discovery/report", {"start": "2026-11-23", "end": "2026-11-23"})
    assert within.json()["count"] == 2
    assert district.get("/api/v1/discovery/report", {"start": "2026-11-24"}).json()["items"] == []
    assert district.get("/api/v1/discovery/report", {"end": "2026-11-22"}).json()["items"] == []
    for query, field in (({"start": "2026-11-31"}, "start"), ({"end": "yesterday"}, "end"),
                         ({"start": "2026-12-01", "end": "2026-11-01"}, "start")):  # fmt: skip
        r = district.get("/api/v1/discovery/report", query)
        assert r.status_code == 422, query
        assert (r.json()["code"], r.json()["details"]["field"]) == (
            "casework.period_invalid",
            field,
        )


# -- roles and scope ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_items_runs_and_report_follow_role_and_jurisdiction(
    cast: Cast, role: str, today: Clock
) -> None:
    whole = discovery.discovery_run(None, as_of=AS_OF)
    dongcheng_run = discovery.discovery_run(None, as_of=AS_OF, division=DONGCHENG)
    client = cast.api(role)
    reader, writer = role in READERS, role in WRITERS
    own, other_street, far = item(cast.own), item(cast.other_street), item(cast.other_district)
    sees_street_b = reader and role not in {"community_worker", "street_reviewer"}

    listed = client.get("/api/v1/discovery/items", {"page_size": 200})
    assert listed.status_code == 200
    ids = {i["id"] for i in listed.json()["items"]}
    assert ids == ({own.pk} if reader else set()) | ({other_street.pk} if sees_street_b else set())
    assert client.get("/api/v1/discovery/items", {"status": "gone"}).status_code == 422
    runs = {r["id"] for r in client.get("/api/v1/discovery/runs").json()["items"]}
    assert runs == ({whole.pk} if reader else set())  # never Dongcheng's own run
    assert dongcheng_run.pk not in runs
    streets = {row["street"] for row in client.get("/api/v1/discovery/report").json()["items"]}
    assert streets == ({"110102009"} if reader else set()) | (
        {"110102001"} if sees_street_b else set()
    )
    inbox = client.get("/api/v1/casework/inbox").json()
    assert inbox["discovery"] == len(ids)

    # out of scope: the same answer as an item that does not exist, and nothing changes
    def act(item_id: int) -> list[tuple[int, Any]]:
        responses = [
            post(client, f"/api/v1/discovery/items/{item_id}/conversion", {}),
            post(client, f"/api/v1/discovery/items/{item_id}/dismissal", {"reason": "不在本辖区"}),
        ]
        return [(r.status_code, r.json()) for r in responses]

    outside = act(far.pk)
    assert {status for status, _ in outside} == {404}
    assert outside == act(10**9)
    assert item(cast.other_district).pk == far.pk and Application.objects.count() == 0

    # a run of a division out of scope: not found for those who may run one
    r = post(client, "/api/v1/discovery/runs", {"division": DONGCHENG})
    assert r.status_code == (404 if writer else 403)

    # in scope
    r = post(client, f"/api/v1/discovery/items/{own.pk}/dismissal", {"reason": "已核实不符合"})
    if writer:
        assert r.status_code == 200 and r.json()["status"] == "dismissed"
    else:
        assert r.status_code == (403 if reader else 404)
        assert r.json()["code"] == ("casework.role_forbidden" if reader else "discovery.not_found")
        r = post(client, f"/api/v1/discovery/items/{own.pk}/conversion", {})
        assert r.status_code == (403 if reader else 404)
        assert item(cast.own).pk == own.pk and Application.objects.count() == 0
    r = post(client, "/api/v1/discovery/runs", {"as_of": "2026-11-23"})
    if writer:
        assert r.status_code == 201, r.content
        run = r.json()
        assert run["division"] == cast.users[role].division.code  # type: ignore[union-attr]
        assert run["status"] == "done" and run["as_of"] == "2026-11-23"
    else:
        assert r.status_code == 403
    assert far.pk in {i.pk for i in DiscoveryItem.objects.filter(status="open")}
