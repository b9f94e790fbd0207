"""Dashboards per level (统计): the cached figures of a division with ECharts charts, a
coverage map of its children, and the lists behind each figure (drill-down)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path

from minzheng.accounts.auth import actor_of
from minzheng.applications.models import State
from minzheng.casework.models import ItemStatus
from minzheng.core.errors import ApplicationError, NotFound, PermissionDenied
from minzheng.programmes.eligibility import programme_labels

from . import selectors

# Colours of the coverage map, lightest to darkest (recipients per 1,000 households).
SCALE = ["#fde8e6", "#f9c0b9", "#f3978b", "#e56b5d", "#c83f33", "#9e2219"]


def _map(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """Tiles of a simple SVG map: one square per child division, coloured by its rate."""
    top = max((float(str(r["per_thousand"])) for r in rows), default=0.0)
    tiles = []
    for k, r in enumerate(rows):
        rate = float(str(r["per_thousand"]))
        shade = 0 if top == 0 else min(int(rate / top * (len(SCALE) - 1) + 0.5), len(SCALE) - 1)
        tiles.append({**r, "x": 10 + (k % 6) * 150, "y": 10 + (k // 6) * 100, "fill": SCALE[shade],
                      "dark": shade >= 3})  # fmt: skip
    return tiles


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    try:
        board = selectors.dashboard(actor, request.GET.get("division") or None)
    except (NotFound, PermissionDenied):
        raise Http404 from None
    data = board.data
    tiles = _map(data["coverage"])
    context = {
        "board": board,
        "data": data,
        "tiles": tiles,
        "map_height": 20 + ((len(tiles) + 5) // 6) * 100,
        "scale": SCALE,
        "charts": {
            "months": data["months"],
            "trend": data["trend"],
            "applications": data["applications"],
            "poverty": data["poverty"],
        },
        "decided_total": sum(r["approved"] + r["rejected"] for r in data["decisions"]),
        "open_total": sum(r["open"] for r in data["applications"]),
        "overdue_total": sum(r["overdue"] for r in data["applications"]),
    }
    return render(request, "reports/dashboard.html", context)


@login_required
def figure_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    figure = request.GET.get("figure", "recipients")
    params = {k: request.GET.get(k) or None for k in ("division", "programme", "month", "state")}
    rows: list[dict[str, object]] = []
    page = None
    try:
        qs = selectors.figure_list(actor, figure=figure, code=params["division"], programme=params["programme"],
                                   month=params["month"], state=params["state"])  # fmt: skip
        page = Paginator(qs, 50).get_page(request.GET.get("page"))
        rows = [selectors.row_out(o) for o in page.object_list]
    except (NotFound, PermissionDenied):
        raise Http404 from None
    except ApplicationError as exc:
        messages.error(request, exc.message)
    titles = {"recipients": "救助对象名单", "applications": "在办申请", "overdue": "超期申请",
              "discovery": "主动发现线索"}  # fmt: skip
    context = {
        "figure": figure,
        "title": titles.get(figure, "名单"),
        "rows": rows,
        "page": page,
        "params": params,
        "query": "&".join(f"{k}={v}" for k, v in {"figure": figure, **params}.items() if v),
        "programmes": [(k, v[0]) for k, v in programme_labels().items()],
        "states": State.choices if figure in ("applications", "overdue") else ItemStatus.choices,
    }
    return render(request, "reports/figure_list.html", context)


urlpatterns: list[URLPattern] = [
    path("", dashboard, name="dashboard"),
    path("list/", figure_list, name="figure_list"),
]
