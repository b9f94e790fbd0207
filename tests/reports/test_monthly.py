"""Standard reports: the monthly statistics and the yearly summary, worked by hand to the fen
against a small ledger, their snapshots, exports, bad input, roles and scope.

The ledger (``build``): four households of Xicheng, registered in September (their registry
history is dated then) except D, registered only after the months it is paid for.

- A (community A, 本市, 1 person): 低保 1,012.50 from October;
- B (community B, 外地, 2 persons, one moves out on 10 November): 低保 862.50 from October;
- C (community B, 本市, 1 person): 高龄津贴 100.00 from November;
- D (community A, 本市, 1 person): 低保 500.00 decided in November, back-dated to September.

October's payroll pays A and B (1,875.00). November's pays A, B, C and D: regular
1,012.50 + 862.50 + 100.00 + 500.00 = 2,475.00 and D's arrears for September and October
2 × 500.00 = 1,000.00, together 3,475.00; the bank returns B's transfer (862.50) as failed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from minzheng.benefits.models import Entitlement, Payment
from minzheng.registry.documents import HouseholdPatch, MemberPatch, validate_document
from minzheng.registry.models import Division, Household, Person
from minzheng.registry.services import household_update, households_create
from minzheng.reports import monthly
from minzheng.reports.models import Report
from tests.applications.conftest import Clock
from tests.benefits.conftest import bank_return, entitle, post
from tests.fixtures import COMMUNITY_A, COMMUNITY_B, DONGCHENG, STREET_A, Cast, member

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STAFF = ("community_worker", "street_reviewer", "district_approver", "auditor", "admin")
OTHERS = ("department_liaison", "service_provider", "resident")
OCT, NOV, DEC = date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)


def _aware(y: int, m: int, d: int, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime(y, m, d, hour), timezone.get_default_timezone())


REGISTERED = _aware(2026, 9, 1)


@dataclass
class Ledger:
    a: Household
    b: Household
    c: Household
    d: Household
    b_leaver: Person
    runs: dict[date, dict[str, Any]]
    entitlements: dict[str, Entitlement]


def _household(division: str, hukou: str, *people: tuple[str, str, str]) -> Household:
    doc = validate_document({"division": division, "hukou": hukou,
                             "members": [member(stem, name, rel) for stem, name, rel in people]})  # fmt: skip
    (household,) = households_create(actor=None, documents=[doc], reason="测试数据")
    return household


def _registered_on(when: datetime, *households: Household) -> None:
    """Date the registry history of ``households`` and their members at ``when``."""
    ids = [h.pk for h in households]
    Household.history.filter(id__in=ids).update(history_date=when)
    Person.history.filter(household_id__in=ids).update(history_date=when)


def _run(district: Client, approver2: Client, period: str) -> dict[str, Any]:
    r = post(district, "/api/v1/payrolls", {"period": period})
    assert r.status_code == 202, r.content
    run = r.json()
    r = post(approver2, f"/api/v1/payrolls/{run['id']}/approval", {"reason": "同意"})
    assert r.status_code == 200, r.content
    return dict(r.json())


def build(cast: Cast, today: Clock, approver2: Client, *, between: Any = None) -> Ledger:
    """The ledger of the module docstring; ``between(ledger)`` runs after October's payroll."""
    district = cast.api("district_approver")
    a, c = cast.own, cast.other_street
    b = _household(COMMUNITY_B, "other", ("11010219750301201", "王外地", "head"),
                   ("11010219760401202", "李外地", "spouse"))  # fmt: skip
    _registered_on(REGISTERED, a, b, c)
    ents = {"a": entitle(a, "1012.50", OCT), "b": entitle(b, "862.50", OCT)}
    today.day = date(2026, 10, 20)
    runs = {OCT: _run(district, approver2, "2026-10")}
    leaver = b.members.get(relation="spouse")
    ledger = Ledger(a, b, c, c, leaver, runs, ents)
    if between is not None:
        between(ledger)
    # B's spouse moves out on 10 November
    household_update(actor=cast.users["district_approver"], household_id=b.pk,
                     patch=HouseholdPatch(reason="迁往外省", members=[
                         MemberPatch(person_id=leaver.pk, leave="moved_out")]))  # fmt: skip
    Person.history.filter(id=leaver.pk, state="moved_out").update(history_date=_aware(2026, 11, 10))
    Household.history.filter(id=b.pk, history_change_reason="迁往外省").update(
        history_date=_aware(2026, 11, 10)
    )
    d = _household(COMMUNITY_A, "beijing", ("11010219500505301", "赵补发", "head"))
    ents["c"] = entitle(c, "100.00", NOV, programme="age_allowance")
    ents["d"] = entitle(d, "500.00", date(2026, 9, 1))
    today.day = date(2026, 11, 20)
    nov = _run(district, approver2, "2026-11")
    runs[NOV] = nov
    r = district.post(f"/api/v1/payrolls/{nov['id']}/bank-file")
    assert r.status_code == 201, r.content
    text = district.get(f"/api/v1/payrolls/{nov['id']}/bank-file").content.decode()
    upload = bank_return(text, {f"{nov['number']}-{ents['b'].pk}": ("E01", "账户不存在")})
    r = district.post(f"/api/v1/payrolls/{nov['id']}/bank-return",
                      {"file": SimpleUploadedFile("return.csv", upload)})  # fmt: skip
    assert r.status_code == 200, r.content
    ledger.d = d
    today.day = date(2026, 12, 2)
    return ledger


@pytest.fixture
def ledger(cast: Cast, today: Clock, second_approver: Client) -> Ledger:
    return build(cast, today, second_approver)


def generate(client: Client, period: str, division: str | None = None,
             kind: str = "monthly") -> Any:  # fmt: skip
    body: dict[str, Any] = {"kind": kind, "period": period}
    if division is not None:
        body["division"] = division
    return post(client, "/api/v1/reports", body)


def ledger_total(period: date, path: str = "") -> Decimal:
    total = Payment.objects.filter(
        run__period=period, run__status__in=["approved", "exported", "reconciled"],
        division_path__startswith=path,
    ).aggregate(s=Sum("amount"))["s"]  # fmt: skip
    return Decimal(total or 0).quantize(Decimal("0.01"))


# -- the figures, by hand -------------------------------------------------------------------


def test_november_to_the_fen(cast: Cast, ledger: Ledger) -> None:
    r = generate(cast.api("district_approver"), "2026-11")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["stored"] is True and body["empty"] is False and body["provisional"] is False
    assert body["title"] == "西城区社会救助统计月报（2026年11月）"
    assert body["registry_date"] == "2026-11-30" and body["registered_late"] == 1  # D
    # November's payroll, and October's for the month before (new and exited households)
    assert body["runs"] == sorted([ledger.runs[OCT]["number"], ledger.runs[NOV]["number"]])
    dibao = body["figures"]["programmes"]["dibao"]
    # A, B (外地) and D; B's spouse moved out on 10 November
    assert dibao["households"] == {"total": 3, "beijing": 2, "other": 1}
    assert dibao["persons"] == {"total": 3, "beijing": 2, "other": 1}
    assert dibao["amounts"] == {
        "regular": "2375.00",  # 1,012.50 + 862.50 + 500.00
        "arrears": "1000.00",  # D: September and October
        "adjustment": "0.00", "recovery": "0.00", "reissue": "0.00",
        "approved": "3375.00",
        "beijing": "2512.50",  # A 1,012.50 + D 1,500.00
        "other": "862.50",
        "failed": "862.50",  # B's transfer came back
        "paid": "2512.50",
    }  # fmt: skip
    assert (dibao["new"], dibao["exited"]) == (1, 0)  # D's first regular payment
    age = body["figures"]["programmes"]["age_allowance"]
    assert age["households"] == {"total": 1, "beijing": 1, "other": 0}
    assert age["amounts"]["approved"] == "100.00" and (age["new"], age["exited"]) == (1, 0)
    total = body["figures"]["total"]
    assert total["households"] == {"total": 4, "beijing": 3, "other": 1}
    assert total["persons"] == {"total": 4, "beijing": 3, "other": 1}
    assert total["amounts"]["regular"] == "2475.00"
    assert total["amounts"]["approved"] == "3475.00"
    assert total["amounts"]["paid"] == "2612.50"
    assert (total["new"], total["exited"]) == (2, 0)
    # the report's total is the ledger's
    assert Decimal(total["amounts"]["approved"]) == ledger_total(NOV) == Decimal("3475.00")
    assert body["layout"][0] == "dibao" and "temporary_assistance" in body["layout"]


def test_october_counts_the_arrears_paid_later_for_october(cast: Cast, ledger: Ledger) -> None:
    body = generate(cast.api("district_approver"), "2026-10").json()
    dibao = body["figures"]["programmes"]["dibao"]
    # D's arrears for October (paid in November's payroll, approved before this report)
    # make D a recipient of October; October's money is October's payroll only
    assert dibao["households"] == {"total": 3, "beijing": 2, "other": 1}
    assert dibao["persons"] == {"total": 4, "beijing": 2, "other": 2}  # B still had 2
    assert dibao["amounts"]["approved"] == "1875.00" == f"{ledger_total(OCT)}"
    assert dibao["amounts"]["regular"] == "1875.00" and dibao["amounts"]["failed"] == "0.00"
    assert (dibao["new"], dibao["exited"]) == (2, 0)  # A and B; D's first regular is November
    assert "age_allowance" not in body["figures"]["programmes"]


def test_a_street_and_a_community_see_their_own_part(cast: Cast, ledger: Ledger) -> None:
    street = generate(cast.api("street_reviewer"), "2026-11").json()  # street A: A and D
    assert street["division"]["code"] == STREET_A
    total = street["figures"]["total"]
    assert total["households"]["total"] == 2 and total["amounts"]["approved"] == "2512.50"
    street_path = Division.objects.get(code=STREET_A).path
    assert Decimal(total["amounts"]["approved"]) == ledger_total(NOV, street_path)
    b = generate(cast.api("district_approver"), "2026-11", COMMUNITY_B).json()
    assert b["figures"]["total"]["amounts"]["approved"] == "962.50"  # B 862.50 + C 100.00
    assert b["figures"]["total"]["households"] == {"total": 2, "beijing": 1, "other": 1}
    assert b["title"].startswith("西城区西长安街街道")


# -- snapshots ------------------------------------------------------------------------------


def test_a_snapshot_gives_the_same_numbers_after_later_changes(
    cast: Cast, today: Clock, second_approver: Client
) -> None:
    stored: dict[str, Any] = {}

    def october_report(ledger: Ledger) -> None:
        today.day = date(2026, 11, 2)
        district = cast.api("district_approver")
        r = generate(district, "2026-10")
        assert r.status_code == 201
        stored["oct"] = r.json()
        # then the bank returns A's October transfer as failed
        run = ledger.runs[OCT]
        assert district.post(f"/api/v1/payrolls/{run['id']}/bank-file").status_code == 201
        text = district.get(f"/api/v1/payrolls/{run['id']}/bank-file").content.decode()
        upload = bank_return(
            text, {f"{run['number']}-{ledger.entitlements['a'].pk}": ("E01", "账户不存在")}
        )
        r = district.post(f"/api/v1/payrolls/{run['id']}/bank-return",
                          {"file": SimpleUploadedFile("return.csv", upload)})  # fmt: skip
        assert r.status_code == 200, r.content

    ledger = build(cast, today, second_approver, between=october_report)
    district = cast.api("district_approver")
    october = stored["oct"]
    assert october["figures"]["total"]["households"]["total"] == 2  # before D was decided
    # asked again after November's payroll: the stored numbers, 200
    again = generate(district, "2026-10")
    assert again.status_code == 200 and again.json()["id"] == october["id"]
    assert again.json()["figures"] == october["figures"]
    report = Report.objects.get(pk=october["id"])
    assert monthly.recompute(report) is True
    # computed afresh now, D's arrears for October and A's failed transfer count; the
    # snapshot does not move
    fresh = monthly.compute("monthly", OCT, report.division, cutoff=timezone.now())
    assert fresh["figures"]["total"]["households"]["total"] == 3
    assert fresh["figures"]["total"]["amounts"]["approved"] == "1875.00"
    assert fresh["figures"]["total"]["amounts"]["failed"] == "1012.50"
    assert october["figures"]["total"]["amounts"]["failed"] == "0.00"
    assert october["figures"]["total"]["amounts"]["paid"] == "1875.00"

    nov = generate(district, "2026-11").json()
    nov_report = Report.objects.get(pk=nov["id"])
    # a member joins A in December: November's persons do not change
    r = district.patch(f"/api/v1/households/{ledger.a.pk}", data=json.dumps({
        "reason": "新生儿落户", "members_add": [
            {"id_number": member("11010220261201001", "x")["id_number"], "name": "张小",
             "relation": "child"}]}), content_type="application/json")  # fmt: skip
    assert r.status_code == 200, r.content
    assert monthly.recompute(nov_report) is True
    fresh = monthly.compute("monthly", NOV, nov_report.division, cutoff=timezone.now())
    assert fresh["figures"]["total"]["persons"] == nov["figures"]["total"]["persons"]
    # December's payroll pays a back-dated decision's arrears for November: November's
    # snapshot and its recomputation do not change
    e = _household(COMMUNITY_A, "beijing", ("11010219450606401", "钱新", "head"))
    entitle(e, "300.00", NOV)
    today.day = date(2026, 12, 3)
    dec = _run(district, second_approver, "2026-12")
    assert Payment.objects.filter(run_id=dec["id"], kind="arrears", period=NOV).exists()
    assert monthly.recompute(nov_report) is True
    assert monthly.recompute(Report.objects.get(pk=october["id"])) is True
    r = generate(district, "2026-11")
    assert r.status_code == 200 and r.json()["figures"] == nov["figures"]
    assert r.json()["digest"] == nov["digest"] == nov_report.digest


def test_a_provisional_report_is_brought_up_to_date(cast: Cast, ledger: Ledger,
                                                    today: Clock) -> None:  # fmt: skip
    district = cast.api("district_approver")
    today.day = date(2026, 11, 25)  # November has not ended
    r = generate(district, "2026-11")
    assert r.status_code == 201 and r.json()["provisional"] is True
    first = r.json()
    r = generate(district, "2026-11")  # the same figures, still provisional: unchanged
    assert r.status_code == 200 and r.json()["generated_at"] == first["generated_at"]
    today.day = date(2026, 12, 1)
    r = generate(district, "2026-11")
    assert r.status_code == 200
    final = r.json()
    assert final["id"] == first["id"] and final["provisional"] is False
    assert final["figures"] == first["figures"]
    assert Report.objects.count() == 1


# -- exports --------------------------------------------------------------------------------


def _sheet(content: bytes, name: str) -> list[list[Any]]:
    import fastexcel

    sheet = fastexcel.read_excel(content).load_sheet_by_name(name, header_row=None)
    frame = sheet.to_polars()
    return [list(row) for row in frame.iter_rows()]


def _num(cell: Any) -> float:
    return round(float(cell), 2)


def test_xlsx_has_chinese_headers_and_the_ledger_total(cast: Cast, ledger: Ledger) -> None:
    district = cast.api("district_approver")
    report = generate(district, "2026-11").json()
    r = district.get(f"/api/v1/reports/{report['id']}/xlsx")
    assert r.status_code == 200 and r["Content-Type"] == XLSX
    assert r["Content-Disposition"] == 'attachment; filename="report-monthly-110102-2026-11.xlsx"'
    rows = _sheet(r.content, "月度统计")
    assert rows[0][0] == "西城区社会救助统计月报（2026年11月）"
    assert "数据截至" in rows[1][0]
    top, second = rows[2], rows[3]
    assert top[0] == "救助项目"
    assert {"救助户数（户）", "救助人数（人）", "发放金额（元）", "新增户数", "退出户数"} <= set(
        top
    )
    assert second[1:4] == ["合计", "本市户籍", "外地户籍"]
    assert "当月发放" in second and "实发金额" in second
    approved_col = second.index("应发合计")
    labels = [row[0] for row in rows]
    total = rows[labels.index("合计")]
    assert _num(total[approved_col]) == 3475.00 == float(ledger_total(NOV))
    assert _num(total[second.index("实发金额")]) == 2612.50
    assert _num(total[1]) == 4  # households
    dibao = rows[labels.index("最低生活保障")]
    assert _num(dibao[approved_col]) == 3375.00
    temporary = rows[labels.index("临时救助")]
    assert _num(temporary[1]) == 0 and temporary[top.index("新增户数")] == "—"  # one-off
    # the same through the page
    page = cast.client("district_approver").get(f"/reports/monthly/{report['id']}.xlsx")
    assert page.status_code == 200 and page.content[:2] == b"PK"


def _weasyprint() -> None:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"WeasyPrint unavailable: {exc}")


def test_pdf_shows_the_table_and_the_total(cast: Cast, ledger: Ledger) -> None:
    _weasyprint()
    import pypdfium2 as pdfium

    district = cast.api("district_approver")
    report = generate(district, "2026-11").json()
    r = district.get(f"/api/v1/reports/{report['id']}/pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    document = pdfium.PdfDocument(r.content)
    text = "".join(page.get_textpage().get_text_range() for page in document)
    text = text.replace("\r", "").replace("\n", "")
    for shown in ("社会救助统计月报", "数据截至", "3,475.00", "2,612.50", "最低生活保障",
                  "合计", "生成人", "u_district_approver"):  # fmt: skip
        assert shown in text, shown
    page = cast.client("street_reviewer").get(f"/reports/monthly/{report['id']}.pdf")
    assert page.status_code == 404  # the district's report, above a street reviewer


# -- the yearly summary ---------------------------------------------------------------------


def test_yearly_summary(cast: Cast, ledger: Ledger) -> None:
    district = cast.api("district_approver")
    r = generate(district, "2026", kind="yearly")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["title"] == "西城区社会救助年度汇总（2026年）"
    # today is 2 December: December is counted once its payroll is approved
    assert body["months"][0] == "2026-01" and body["months"][-1] == "2026-11"
    dibao = body["figures"]["programmes"]["dibao"]
    # monthly households: September 1 (D), October 3 (A, B, D), November 3 → 7 over 11 months
    assert dibao["households_months"] == 7 and dibao["households_avg"] == "0.64"
    assert dibao["amounts"]["approved"] == "5250.00"  # 1,875.00 + 3,375.00
    assert dibao["amounts"]["failed"] == "862.50" and dibao["amounts"]["paid"] == "4387.50"
    assert (dibao["new"], dibao["exited"]) == (3, 0)  # A, B in October; D in November
    total = body["figures"]["total"]
    assert total["amounts"]["approved"] == "5350.00" == f"{ledger_total(OCT) + ledger_total(NOV)}"
    by_month = {m["period"]: m for m in body["figures"]["months"]}
    assert by_month["2026-11"]["approved"] == "3475.00" and by_month["2026-11"]["households"] == 4
    assert by_month["2026-10"]["approved"] == "1875.00" and by_month["2026-10"]["households"] == 3
    assert by_month["2026-09"]["approved"] == "0.00" and by_month["2026-09"]["households"] == 1
    assert monthly.recompute(Report.objects.get(pk=body["id"])) is True
    r = district.get(f"/api/v1/reports/{body['id']}/xlsx")
    rows = _sheet(r.content, "分月情况")
    assert rows[1][:2] == ["月份", "救助户数"] and len(rows) == 2 + 11
    page = cast.client("district_approver").get(f"/reports/yearly/{body['id']}/")
    assert page.status_code == 200 and "分月情况" in page.content.decode()


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "period", "code"),
    [
        ("monthly", "2026-13", "report.period_invalid"),
        ("monthly", "2026/11", "report.period_invalid"),
        ("monthly", "2026", "report.period_invalid"),
        ("monthly", "", "report.period_invalid"),
        ("monthly", "0000-01", "report.period_invalid"),
        ("monthly", "2027-01", "report.period_future"),
        ("yearly", "2026-11", "report.period_invalid"),
        ("yearly", "26", "report.period_invalid"),
        ("yearly", "2027", "report.period_future"),
        ("weekly", "2026-11", "report.kind_invalid"),
    ],
)
def test_malformed_and_future_periods_are_422(cast: Cast, today: Clock, kind: str, period: str,
                                              code: str) -> None:  # fmt: skip
    today.day = date(2026, 12, 2)
    r = generate(cast.api("district_approver"), period, kind=kind)
    assert r.status_code == 422, r.content
    body = r.json()
    assert body["code"] == code and body["message"] and set(body) == {"code", "message", "details"}
    assert not Report.objects.exists()


def test_a_month_without_payments_is_zeros_and_not_stored(cast: Cast, today: Clock) -> None:
    today.day = date(2026, 12, 2)
    r = generate(cast.api("district_approver"), "2026-05")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["id"] is None and body["stored"] is False and body["empty"] is True
    assert body["message"] == monthly.EMPTY_MONTH == "本月无发放数据"
    assert body["figures"]["total"]["households"]["total"] == 0
    assert body["figures"]["total"]["amounts"]["approved"] == "0.00"
    assert not Report.objects.exists()
    r = generate(cast.api("district_approver"), "2025", kind="yearly")
    assert r.status_code == 200 and r.json()["message"] == monthly.EMPTY_YEAR
    page = cast.client("district_approver").post("/reports/monthly/", {"period": "2026-05",
                                                                       "division": "110102"})  # fmt: skip
    assert page.status_code == 200
    html = page.content.decode()
    assert "本月无发放数据" in html and 'id="report-empty"' in html and "download-xlsx" not in html


def test_divisions_out_of_scope_are_404(cast: Cast, ledger: Ledger) -> None:
    for role, code in [("district_approver", DONGCHENG), ("district_approver", "999999"),
                       ("street_reviewer", "110102"), ("street_reviewer", COMMUNITY_B),
                       ("community_worker", STREET_A)]:  # fmt: skip
        r = generate(cast.api(role), "2026-11", code)
        assert r.status_code == 404, (role, code)
        assert r.json()["code"] == "report.division_not_found"
    r = cast.api("district_approver").get("/api/v1/reports", {"division": DONGCHENG})
    assert r.status_code == 404
    r = cast.client("street_reviewer").post("/reports/monthly/", {"period": "2026-11",
                                                                  "division": "110102"})  # fmt: skip
    assert r.status_code == 404 and "不在您的管辖范围内" in r.content.decode()
    r = cast.client("district_approver").post("/reports/monthly/", {"period": "2026-99"})
    assert r.status_code == 422 and 'data-field="period"' in r.content.decode()
    r = cast.client("district_approver").get("/reports/monthly/", {"period": "bad"})
    assert r.status_code == 422
    assert cast.client("district_approver").get("/reports/monthly/424242/").status_code == 404
    r = cast.api("district_approver").get("/api/v1/reports/424242")
    assert r.status_code == 404 and r.json()["code"] == "report.not_found"


# -- roles and scope ------------------------------------------------------------------------


@pytest.mark.parametrize("role", STAFF + OTHERS)
def test_roles(cast: Cast, ledger: Ledger, role: str) -> None:
    district = generate(cast.api("district_approver"), "2026-11").json()
    community = generate(cast.api("community_worker"), "2026-11").json()  # community A
    client = cast.api(role)
    if role in OTHERS:
        r = generate(client, "2026-11")
        assert r.status_code == 403 and r.json()["code"] == "report.role_forbidden"
        assert client.get("/api/v1/reports").json() == {"items": [], "count": 0}
        for rid in (district["id"], community["id"]):
            assert client.get(f"/api/v1/reports/{rid}").status_code == 404
            assert client.get(f"/api/v1/reports/{rid}/xlsx").status_code == 404
        page = cast.client(role).get("/reports/monthly/")
        assert page.status_code == 403 and 'id="refused"' in page.content.decode()
        return
    r = generate(client, "2026-11")
    assert r.status_code in (200, 201), r.content
    own = r.json()
    listed = {item["id"] for item in client.get("/api/v1/reports").json()["items"]}
    sees_district = role in ("district_approver", "auditor", "admin")
    assert (district["id"] in listed) is sees_district
    assert community["id"] in listed and own["id"] in listed
    assert client.get(f"/api/v1/reports/{district['id']}").status_code == (
        200 if sees_district else 404
    )
    assert client.get(f"/api/v1/reports/{community['id']}/xlsx").status_code == 200
    assert cast.client(role).get("/reports/monthly/").status_code == 200
    detail = cast.client(role).get(f"/reports/monthly/{community['id']}/")
    assert detail.status_code == 200 and "社会救助统计月报" in detail.content.decode()
    # a monthly report is not found under the yearly pages
    assert cast.client(role).get(f"/reports/yearly/{community['id']}/").status_code == 404


def test_the_community_report_counts_only_the_community(cast: Cast, ledger: Ledger) -> None:
    body = generate(cast.api("community_worker"), "2026-11").json()
    assert body["division"]["code"] == COMMUNITY_A
    total = body["figures"]["total"]
    assert total["households"]["total"] == 2  # A and D
    assert total["amounts"]["approved"] == "2512.50"
    assert Decimal(total["amounts"]["approved"]) == ledger_total(NOV, ledger.a.division.path)


def test_the_page_generates_and_shows_the_snapshot(cast: Cast, ledger: Ledger) -> None:
    client = cast.client("district_approver")
    r = client.post("/reports/monthly/", {"period": "2026-11", "division": "110102"})
    assert r.status_code == 302
    report = Report.objects.get()
    assert r["Location"] == f"/reports/monthly/{report.pk}/"
    html = client.get(r["Location"]).content.decode()
    assert "西城区社会救助统计月报（2026年11月）" in html and "3,475.00" in html
    assert "下载 Excel" in html and 'id="report-total"' in html
    r = client.post("/reports/monthly/", {"period": "2026-11", "division": "110102"})
    assert r.status_code == 302 and Report.objects.count() == 1
    listing = client.get("/reports/monthly/").content.decode()
    assert "3475.00" in listing and 'id="report-tabs"' in listing
    yearly = client.get("/reports/yearly/")
    assert yearly.status_code == 200 and 'name="period"' in yearly.content.decode()
    r = client.post("/reports/yearly/", {"period": "2026", "division": "110102"})
    summary = Report.objects.get(kind="yearly")
    assert r.status_code == 302 and r["Location"] == f"/reports/yearly/{summary.pk}/"
    assert client.get(f"/reports/yearly/{summary.pk}.xlsx").status_code == 200
    assert client.get(f"/reports/monthly/{summary.pk}.xlsx").status_code == 404
