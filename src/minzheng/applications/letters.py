"""The three PDF notices of an application: acceptance receipt (受理回执), the public
notice of a community (公示) and the decision letter (决定书).

Each function builds the display context (formatted dates and amounts, masked ID
numbers) from records already fetched through the scoped selectors, and renders it
with ``core.pdf``; the templates compute nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from minzheng.applications import workflow
from minzheng.applications.models import Application, ApplicationLine, Channel, State
from minzheng.applications.selectors import UNIT_LABELS
from minzheng.core.pdf import render_pdf
from minzheng.programmes.eligibility import programme_labels
from minzheng.registry.models import Division


def _ancestor(division: Division, position: int) -> Division | None:
    """The division at ``position`` of the path (1 district, 2 street, 3 community)."""
    codes = [c for c in division.path.split("/") if c]
    if len(codes) <= position:
        return None
    return Division.objects.filter(code=codes[position]).first()


def office_of(division: Division) -> str:
    district = _ancestor(division, 1)
    return f"北京市{district.name}民政局" if district else "北京市民政局"


def _full_name(division: Division) -> str:
    codes = [c for c in division.path.split("/") if c][1:]
    names = dict(Division.objects.filter(code__in=codes).values_list("code", "name"))
    return "".join(names.get(c, "") for c in codes)


def _contact(division: Division) -> str:
    return f"{division.name}社区服务站（工作日 9:00—17:00）；民政服务热线 12345"


def _day(value: date | None) -> str:
    return f"{value:%Y-%m-%d}" if value else ""


def receipt_pdf(application: Application, *, status_url: str) -> bytes:
    labels = programme_labels()
    lines = list(application.lines.order_by("pk"))
    first = lines[0] if lines else None
    next_steps = []
    if first is not None:
        for step in workflow.remaining_steps(first.route, first.state, first.returned_from):
            due = first.step_due if step.state == first.state else None
            next_steps.append({"label": step.label, "due": _day(due) or "—"})
    received = application.received_division or application.division
    routed = application.channel == Channel.CROSS_REGION
    context: dict[str, Any] = {
        "office": office_of(application.division),
        "number": application.number,
        "received_on": _day(application.created_at.date()),
        "channel": application.get_channel_display(),
        "applicant_name": application.applicant.name,
        "applicant_id_masked": application.applicant.id_number_masked,
        "household_number": application.household.number,
        "division_name": _full_name(application.division),
        "received_by": _full_name(received),
        "routed": routed,
        "routed_note": (
            f"本申请由{_full_name(received)}代收，已转至户籍所在地{_full_name(application.division)}办理。"
            if routed
            else ""
        ),
        "programmes": [
            {
                "label": labels.get(ln.programme, (ln.programme,))[0],
                "suggested": ln.suggested,
                "state": ln.get_state_display(),
            }
            for ln in lines
        ],
        "documents": [
            {"kind": d.get_kind_display(), "name": d.name} for d in application.documents.all()
        ],
        "next_steps": next_steps,
        "status_url": status_url,
        "contact": _contact(application.division),
    }
    return render_pdf("applications/pdf/receipt.html", context)


def notice_pdf(notice: dict[str, Any], *, url: str) -> bytes:
    community: Division = notice["community"]
    street = _ancestor(community, 2)
    rows = notice["rows"]
    starts = min((r["period_start"] for r in rows), default=notice["today"])
    ends = max((r["period_end"] for r in rows), default=notice["today"])
    context = {
        "office": f"{street.name if street else ''}{community.name}居民委员会",
        "community_name": community.name,
        "street_name": street.name if street else "",
        "title": "社会救助审核结果公示",
        "period_start": _day(starts),
        "period_end": _day(ends),
        "posted_on": _day(notice["today"]),
        "rows": rows,
        "objection_text": (
            "如对公示对象有异议，请于公示期内通过网上公示页面、社区服务站或民政服务热线反映，"
            "我们将依法保护反映人的个人信息。"
        ),
        "objection_url": url,
        "contact": _contact(community),
    }
    return render_pdf("applications/pdf/notice.html", context)


def decision_pdf(line: ApplicationLine) -> bytes:
    application = line.application
    labels = programme_labels()
    approved = line.state == State.APPROVED
    appeal = workflow.appeal()
    district = _ancestor(application.division, 1)
    government = f"北京市{district.name}人民政府" if district else "北京市人民政府"
    reasons: list[str] = []
    verified = line.transitions.filter(action="verify").order_by("-pk").first()
    submitted = line.transitions.filter(action="submit").order_by("pk").first()
    for t in (verified, submitted):
        if t is not None and t.data.get("reasons"):
            reasons = [str(r) for r in t.data["reasons"]]
            break
    context = {
        "office": office_of(application.division),
        "number": f"{application.number}-{line.pk}",
        "decided_on": _day(line.decided_at.date() if line.decided_at else None),
        "applicant_name": application.applicant.name,
        "applicant_id_masked": application.applicant.id_number_masked,
        "household_number": application.household.number,
        "programme": labels.get(line.programme, (line.programme,))[0],
        "approved": approved,
        "amount": f"{line.amount:,.2f}" if line.amount is not None else "",
        "unit": UNIT_LABELS.get(line.unit, line.unit),
        "start_month": f"{line.start_month:%Y年%m月}" if line.start_month else "",
        "reason": line.decision_reason.rstrip("。.")
        or ("经审核，符合条件" if approved else "经审核，不符合条件"),
        "reasons": reasons,
        "appeal": (
            f"如对本决定不服，可以自收到本决定书之日起{appeal['review_days']}日内向{government}"
            f"申请行政复议，或者自收到本决定书之日起{appeal['court_months']}个月内依法向人民法院提起行政诉讼。"
        ),
        "contact": _contact(application.division),
    }
    return render_pdf("applications/pdf/decision.html", context)
