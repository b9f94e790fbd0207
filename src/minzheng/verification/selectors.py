"""Every read of feeds, links and verification reports, starting from ``accounts.access``."""

from __future__ import annotations

from typing import Any

import polars as pl
from django.db.models import QuerySet

from minzheng.accounts import access
from minzheng.accounts.models import AccessAction, User
from minzheng.accounts.services import access_log_record
from minzheng.applications.models import ApplicationLine, State
from minzheng.core.errors import NotFound
from minzheng.registry.models import Division, Person
from minzheng.verification.layouts import LAYOUTS
from minzheng.verification.models import Feed, LinkStatus, RecordLink, VerificationReport

FIELD_LABELS = {
    "deposits": "存款", "securities": "有价证券", "houses": "房产套数", "vehicles": "机动车数",
    "business": "经营实体", "income.pension": "月养老金", "income.wages": "月工资（公积金缴存基数）",
    "income.total": "月收入合计（个税年收入÷12）",
}  # fmt: skip


# Who reads department feeds and their records (in links): the staff who verify, auditors
# and admins; not residents, service providers or department liaisons.
FEED_READERS = frozenset({"district_approver", "street_reviewer", "community_worker", "auditor",
                          "admin"})  # fmt: skip


def feeds_visible(actor: User) -> QuerySet[Feed]:
    """Feeds covering a division in the actor's jurisdiction (or above it: a city feed)."""
    if actor.division is None or actor.role not in FEED_READERS:
        return Feed.objects.none()
    codes = [c for c in actor.division.path.split("/") if c]
    return Feed.objects.filter(division__in=access.divisions_visible(actor)) | Feed.objects.filter(
        division__code__in=codes
    )


def feed_get(actor: User, feed_id: int) -> Feed:
    feed = feeds_visible(actor).filter(pk=feed_id).select_related("division", "imported_by").first()
    if feed is None:
        raise NotFound("feed.not_found", "部门数据不存在或不在您的管辖范围内")
    return feed


def feed_out(feed: Feed) -> dict[str, Any]:
    return {"id": feed.pk, "source": feed.source, "source_label": LAYOUTS[feed.source].label,
            "division": {"code": feed.division.code, "name": feed.division.name},
            "version": feed.version, "describes_on": feed.describes_on, "file_name": feed.file_name,
            "sha256": feed.sha256, "rows": feed.rows, "linked": feed.linked, "review": feed.review,
            "imported_at": feed.imported_at}  # fmt: skip


def links_for_review(actor: User) -> QuerySet[RecordLink]:
    """Links waiting for review of persons in the actor's jurisdiction. A link shows the
    department's record, which may describe someone else: only feed readers see them."""
    if actor.role not in FEED_READERS:
        return RecordLink.objects.none()
    return (
        RecordLink.objects.filter(
            status=LinkStatus.REVIEW, person__household__in=access.households_visible(actor)
        )
        .select_related("record__feed", "person__household__division")
        .order_by("-match_probability", "pk")
    )


def link_out(link: RecordLink) -> dict[str, Any]:
    r, p = link.record, link.person
    return {
        "id": link.pk, "status": link.status, "method": link.method,
        "match_weight": None if link.match_weight is None else round(link.match_weight, 2),
        "match_probability": round(link.match_probability, 4),
        "record": {"feed": r.feed_id, "source": r.feed.source, "source_label": LAYOUTS[r.feed.source].label,
                   "row": r.row, "name": r.name, "id_number": r.id_number_masked or None,
                   "id_valid": r.id_valid, "birth_date": r.birth_date, "sex": r.sex or None,
                   "address": r.address or None},
        "person": {"id": p.pk, "name": p.name, "id_number": p.id_number_masked,
                   "birth_date": p.birth_date, "sex": p.sex,
                   "household": p.household_id,
                   "address": p.household.address if p.household else None},
    }  # fmt: skip


def report_get(actor: User, report_id: int, *, channel: str = "web") -> VerificationReport:
    report = (
        VerificationReport.objects.filter(
            pk=report_id, application__in=access.applications_visible(actor)
        )
        .select_related("application__applicant", "household__division", "created_by")
        .first()
    )
    if report is None:
        raise NotFound("verification.not_found", "核对报告不存在或不在您的管辖范围内")
    members = list(report.household.members.filter(state="active"))
    access_log_record(actor=actor, household=report.household, persons=members,
                      action=AccessAction.VIEW, reason=f"查看核对报告 {report.pk}",
                      channel=channel)  # fmt: skip
    return report


def report_out(report: VerificationReport) -> dict[str, Any]:
    from minzheng.programmes.eligibility import programme_labels

    labels = programme_labels()
    eligibility = report.eligibility or {}
    discrepancies = list(report.discrepancies.all())
    return {
        "id": report.pk, "application": report.application_id,
        "application_number": report.application.number, "household": report.household_id,
        "household_number": report.household.number, "as_of": report.as_of,
        "created_at": report.created_at,
        "discrepancies": [
            {"id": d.pk, "source": d.source, "source_label": LAYOUTS[d.source].label if d.source in LAYOUTS else d.source,
             "subject": d.subject, "field": d.field, "field_label": FIELD_LABELS.get(d.field, d.field),
             "declared": d.declared, "found": d.found, "difference": d.difference,
             "changes_eligibility": d.changes_eligibility, "resolved": d.resolved_at is not None,
             "resolution": d.resolution or None}
            for d in discrepancies
        ],
        "eligibility": [
            {"programme": p, "label": labels.get(p, (p,))[0],
             "declared": eligibility.get("declared", {}).get(p), "found": eligibility.get("found", {}).get(p)}
            for p in eligibility.get("programmes", [])
        ],
        "unresolved": sum(1 for d in discrepancies if d.resolved_at is None),
    }  # fmt: skip


def reports_for(application_id: int) -> QuerySet[VerificationReport]:
    return VerificationReport.objects.filter(application_id=application_id).order_by("-pk")


def persons_frame(division: Division) -> pl.DataFrame:
    """Registry persons below ``division`` for linking; ID numbers rebuilt from the masked
    number and the birth date (the masked part is exactly the birth date), so nothing is
    decrypted."""
    rows = Person.objects.filter(
        household__division__path__startswith=division.path, state="active"
    ).values_list("pk", "id_number_masked", "birth_date", "name", "sex", "household__address")
    persons = list(rows)
    return pl.DataFrame(
        {
            "person_id": [p[0] for p in persons],
            "id_number": [f"{p[1][:6]}{p[2]:%Y%m%d}{p[1][14:]}" for p in persons],
            "name": [p[3] for p in persons],
            "birth_date": [p[2] for p in persons],
            "sex": [p[4] for p in persons],
            "address": [p[5] or None for p in persons],
        },
        schema={"person_id": pl.Int64, "id_number": pl.Utf8, "name": pl.Utf8,
                "birth_date": pl.Date, "sex": pl.Utf8, "address": pl.Utf8},
    )  # fmt: skip


def duplicates_and_double_recipients(
    actor: User, division_code: str | None = None
) -> dict[str, Any]:
    """Probable duplicate persons in the registry, and people on the same programme twice."""
    from minzheng.verification.linkage import double_recipients, find_duplicates

    access.ensure_registry_reader(actor)
    assert actor.division is not None
    division = (
        access.access_division_by_code(actor, division_code) if division_code else actor.division
    )
    persons = persons_frame(division)
    pairs = find_duplicates(persons) if persons.height > 1 else pl.DataFrame()
    lines = (
        ApplicationLine.objects.filter(division_path__startswith=division.path)
        .exclude(state__in=[State.REJECTED, State.WITHDRAWN])
        .values_list("pk", "programme", "household_id", "application__applicant_id",
                     "application__division__code")
    )  # fmt: skip
    rows = list(lines)
    recipients = pl.DataFrame(
        {"line_id": [r[0] for r in rows], "programme": [r[1] for r in rows],
         "household_id": [r[2] for r in rows], "person_id": [r[3] for r in rows],
         "division_code": [r[4] for r in rows]},
        schema={"line_id": pl.Int64, "programme": pl.Utf8, "household_id": pl.Int64,
                "person_id": pl.Int64, "division_code": pl.Utf8},
    )  # fmt: skip
    doubles = double_recipients(recipients, pairs) if recipients.height else pl.DataFrame()
    people = {
        p[0]: {"name": p[1], "id_number": p[2], "household": p[3]}
        for p in Person.objects.filter(
            household__division__path__startswith=division.path
        ).values_list("pk", "name", "id_number_masked", "household_id")
    }
    from minzheng.programmes.eligibility import programme_labels

    labels = programme_labels()
    reasons = {"same_person": "同一人在多条记录中", "duplicate_person": "疑似同一人重复登记"}
    pair_rows = [
        {"a": people.get(r["person_id_l"], {}), "b": people.get(r["person_id_r"], {}),
         "person_id_a": r["person_id_l"], "person_id_b": r["person_id_r"],
         "match_weight": round(r["match_weight"], 2) if r["match_weight"] is not None else None,
         "match_probability": round(r["match_probability"], 4), "status": r["status"]}
        for r in pairs.iter_rows(named=True)
    ] if pairs.height else []  # fmt: skip
    double_rows = [
        {"programme": r["programme"], "label": labels.get(r["programme"], (r["programme"],))[0],
         "reason": r["reason"], "reason_label": reasons.get(r["reason"], r["reason"]),
         "a": people.get(r["person_id_a"], {}), "b": people.get(r["person_id_b"], {}),
         "household_a": r["household_id_a"], "household_b": r["household_id_b"],
         "line_a": r["line_id_a"], "line_b": r["line_id_b"],
         "cross_household": r["cross_household"], "cross_division": r["cross_division"],
         "match_probability": r["match_probability"]}
        for r in doubles.iter_rows(named=True)
    ] if doubles.height else []  # fmt: skip
    return {"division": division, "pairs": pair_rows, "doubles": double_rows}
