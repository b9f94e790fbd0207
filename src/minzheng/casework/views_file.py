"""The household file page (一户一档) and its PDF: a thin skin over ``casework.file``.

Filters come from the query string: ``kind`` (repeatable), ``start`` and ``end``
(YYYY-MM-DD). A malformed filter is named in a Chinese message on the page and left out;
it never makes a 500. Outside the jurisdiction (or for a role that does not read
casework) the page and the PDF are 404.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from minzheng.accounts import access
from minzheng.accounts.auth import actor_of
from minzheng.casework import file
from minzheng.core.errors import ApplicationError, FieldError, NotFound
from minzheng.core.pdf import render_pdf

PAGE_SIZE = 100


def _filters(request: HttpRequest) -> tuple[set[str] | None, date | None, date | None, list[str]]:
    """(kinds, start, end, problems): each bad filter is dropped and explained."""
    problems: list[str] = []
    raw_kinds = request.GET.getlist("kind")
    kinds = {k for k in raw_kinds if k in file.KINDS} or None
    if len(kinds or ()) < len({k for k in raw_kinds if k}):
        problems.append("已忽略不认识的记录类别")
    days: dict[str, date | None] = {}
    for name, label in (("start", "起始日期"), ("end", "截止日期")):
        try:
            days[name] = file.parse_day(request.GET.get(name), name, label)
        except FieldError as exc:
            problems.append(f"{exc.message}，已忽略该条件")
            days[name] = None
    start, end = days["start"], days["end"]
    try:
        file.check_period(start, end)
    except FieldError as exc:
        problems.append(f"{exc.message}，已忽略截止日期")
        end = None
    return kinds, start, end, problems


def _query(kinds: set[str] | None, start: date | None, end: date | None) -> str:
    pairs: list[tuple[str, str]] = [("kind", k) for k in file.KINDS if kinds and k in kinds]
    if start:
        pairs.append(("start", start.isoformat()))
    if end:
        pairs.append(("end", end.isoformat()))
    return urlencode(pairs)


@login_required
@require_GET
def household_file(request: HttpRequest, household_id: int) -> HttpResponse:
    kinds, start, end, problems = _filters(request)
    actor = actor_of(request)
    try:
        data = file.household_file(
            actor, household_id, kinds=kinds, start=start, end=end, channel="web"
        )
    except NotFound:
        raise Http404 from None
    page = Paginator(data.entries, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "data": data,
        "household": data.household,
        "page": page,
        "kinds": [
            {
                "value": k,
                "label": label,
                "checked": kinds is not None and k in kinds,
                "count": data.counts[k],
            }
            for k, label in file.KINDS.items()
        ],
        "start": start.isoformat() if start else "",
        "end": end.isoformat() if end else "",
        "problems": problems,
        "can_write": actor.role in access.CASE_WRITERS,
        "query": _query(kinds, start, end),
        "capped": [file.KINDS[k] for k in data.capped],
        "cap": file.SOURCE_CAP,
    }
    return render(request, "casework/household_file.html", context)


@login_required
@require_GET
def household_file_pdf(request: HttpRequest, household_id: int) -> HttpResponse:
    kinds, start, end, _ = _filters(request)
    actor = actor_of(request)
    try:
        data = file.household_file(
            actor, household_id, kinds=kinds, start=start, end=end, channel="web", printing=True
        )
        content = render_pdf(
            "casework/household_file_pdf.html", file.pdf_context(data, actor, timezone.now())
        )
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:  # the PDF renderer is unavailable (503)
        return render(
            request, "applications/refused.html", {"error": exc.message}, status=exc.status
        )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="household-{data.household.number}-file.pdf"'
    )
    response["Cache-Control"] = "private, no-store"
    return response
