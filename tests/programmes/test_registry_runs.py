"""The whole registry evaluated as of a date: stored results the household page shows."""

from __future__ import annotations

from datetime import date

from minzheng.programmes import services
from minzheng.programmes.models import EligibilityResult, RunStatus
from minzheng.registry.models import Household
from tests.fixtures import Cast, pensioner


def test_run_stores_what_each_household_may_qualify_for(cast: Cast) -> None:
    poor = pensioner("1000.00", "11010219300101001")  # 95 on 2025-07-01
    run = services.evaluation_run_create(cast.users["district_approver"], as_of=date(2025, 7, 1))
    services.evaluation_run_execute(run.pk, chunk=2)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert (
        run.done
        == run.total
        == Household.objects.filter(division__code__startswith="110102").count()
    )
    got = {r.programme: r for r in EligibilityResult.objects.filter(run=run, household=poor)}
    # (1,450 − 1,000) + 25 % × 1,450 = 812.50; age allowance 90–99: 500
    assert str(got["dibao"].amount) == "812.50"
    assert str(got["age_allowance"].amount) == "500.00"
    assert any("1,000.00 元 < 低保标准 1,450.00 元" in line for line in got["dibao"].reasons)
    # the district approver's run does not reach Dongcheng
    assert not EligibilityResult.objects.filter(run=run, household=cast.other_district).exists()

    page = cast.client("community_worker").get(f"/households/{poor.pk}/")
    text = page.content.decode()
    assert "可能符合的救助项目" in text and "812.50" in text and f"第 {run.pk} 次全库评估" in text
    # a person programme's reason names the member, not a database key
    assert "成员 老人 符合，500.00 元" in text


def test_before_any_run_the_page_evaluates_live(cast: Cast) -> None:
    household = pensioner("99999.00", "11010219900101002")
    text = cast.client("community_worker").get(f"/households/{household.pk}/").content.decode()
    assert "即时试算" in text
    assert "暂未发现符合条件的救助项目" in text


def test_read_only_roles_cannot_start_a_run(cast: Cast) -> None:
    import pytest

    from minzheng.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.evaluation_run_create(cast.users["auditor"], as_of=date(2025, 7, 1))


def test_what_if_raises_beneficiaries_when_the_standard_rises(cast: Cast) -> None:
    pensioner("1500.00", "11010219500101003")  # 75: above 1,450, below 1,600
    report = services.simulate(
        cast.users["admin"], overrides={"dibao.standard": 1600}, as_of=date(2025, 7, 1)
    )
    dibao = next(p for p in report["programmes"] if p["programme"] == "dibao")
    assert dibao["reform_beneficiaries"] == dibao["base_beneficiaries"] + dibao["newly_eligible"]
    assert dibao["newly_eligible"] >= 1
    # (1,600 − 1,500) + 25 % × 1,600 = 500.00 more for that household at least
    assert float(dibao["reform_cost"]) - float(dibao["base_cost"]) >= 500.0


def test_a_run_whose_process_died_is_marked_failed(cast: Cast) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from minzheng.programmes.models import EvaluationRun

    run = services.evaluation_run_create(cast.users["admin"], as_of=date(2025, 7, 1))
    EvaluationRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, heartbeat=timezone.now() - timedelta(minutes=11)
    )
    fresh = services.evaluation_run_create(cast.users["admin"], as_of=date(2025, 7, 1))
    EvaluationRun.objects.filter(pk=fresh.pk).update(
        status=RunStatus.RUNNING, heartbeat=timezone.now()
    )
    page = cast.client("admin").get(f"/programmes/runs/{run.pk}/").content.decode()
    run.refresh_from_db()
    fresh.refresh_from_db()
    assert run.status == RunStatus.FAILED and "服务可能已重启" in run.error
    assert "服务可能已重启" in page
    assert fresh.status == RunStatus.RUNNING
