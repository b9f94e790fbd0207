"""Pages of the poverty index: the ranking (with a histogram) and one household's
explanation. A thin skin over ``targeting.selectors``; every refusal is a Chinese message
(403) or a 404, never a 500."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from minzheng.accounts.auth import actor_of
from minzheng.core.errors import ApplicationError, NotFound
from minzheng.registry.selectors import divisions_for_select
from minzheng.targeting import selectors

PAGE_SIZE = 50
MONEY_UNITS = {"yuan", "yuan/month", "yuan/year"}


class RankingForm(forms.Form):
    as_of = forms.DateField(
        label=_("测算日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    division = forms.CharField(label=_("范围"), required=False, max_length=12)
    all = forms.BooleanField(label=_("全部家庭"), required=False)
    page = forms.IntegerField(required=False, min_value=1)


class ExplanationForm(forms.Form):
    as_of = forms.DateField(required=False)


def _refused(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return render(request, "targeting/refused.html", {"error": exc.message}, status=exc.status)


def _yuan(text: str) -> str:
    return f"{Decimal(text):,.2f}"


def _value_text(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    if unit in MONEY_UNITS:
        return gettext("%(amount)s 元") % {"amount": _yuan(str(value))}
    if unit == "share":
        return f"{float(value) * 100:.2f}%"
    if unit == "count":
        return gettext("%(n)s 套") % {"n": value}
    if unit == "persons":
        return gettext("%(n)s 人") % {"n": value}
    if isinstance(value, bool):
        return gettext("是") if value else gettext("否")
    return str(value)


def _chart(ranking: selectors.Ranking) -> dict[str, Any]:
    bins = ranking.histogram()
    return {
        "title": gettext("贫困指数分布（户）"),
        "x_name": gettext("贫困指数"),
        "y_name": gettext("户数"),
        "labels": [f"{b['lower']}–{b['upper']}" for b in bins],
        "counts": [b["count"] for b in bins],
    }


@login_required
def ranking(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    try:
        selectors.ensure_reader(actor)
    except ApplicationError as exc:
        return _refused(request, exc)
    form = RankingForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    as_of: date = data.get("as_of") or timezone.localdate()
    context: dict[str, Any] = {
        "form": form,
        "as_of": as_of,
        "division_code": data.get("division") or "",
        "all": bool(data.get("all")),
        "divisions": divisions_for_select(actor),
        "result": None,
    }
    if form.is_valid():
        try:
            result = selectors.ranking(
                actor,
                as_of=as_of,
                division_code=data.get("division") or None,
                applicants_only=not data.get("all"),
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            pages = max(1, -(-result.count // PAGE_SIZE))
            page = min(data.get("page") or 1, pages)
            items = selectors.ranking_page(result, page, PAGE_SIZE)
            for item in items:
                if item["top_dimension"]:
                    item["top_dimension"]["label"] = gettext(item["top_dimension"]["label"])
                item["assistance_text"] = _yuan(item["assistance"])
            context.update(
                result=result,
                items=items,
                page=page,
                pages=pages,
                streets=[
                    {**s, "assistance_text": _yuan(s["assistance"])} for s in result.streets()
                ],
                chart=_chart(result),
            )
    template = (
        "targeting/ranking.html#result"
        if getattr(request, "htmx", False)
        else "targeting/ranking.html"
    )
    return render(request, template, context)


@login_required
def explanation(request: HttpRequest, household_id: int) -> HttpResponse:
    actor = actor_of(request)
    form = ExplanationForm(request.GET)
    as_of = (form.cleaned_data.get("as_of") if form.is_valid() else None) or timezone.localdate()
    try:
        household, result = selectors.household_poverty_index(actor, household_id, as_of=as_of)
    except NotFound:
        raise Http404 from None
    except ApplicationError as exc:
        return _refused(request, exc)
    for d in result["dimensions"]:
        d["label"] = gettext(d["label"])
        d["rule"] = gettext(d["rule"])
        d["value_text"] = _value_text(d["value"], d["value_unit"])
    for f in result["facts"]:
        f["value_text"] = _value_text(f["value"], f["unit"])
    if result["top_dimension"]:
        result["top_dimension"]["label"] = gettext(result["top_dimension"]["label"])
    result["assistance"]["amount_text"] = _yuan(result["assistance"]["amount"])
    for bracket in result["assistance"]["table"]:
        bracket["amount_text"] = _yuan(bracket["amount"])
    for parameter in result["parameters"]:
        parameter["value_text"] = json.dumps(parameter["value"], ensure_ascii=False)
    return render(
        request,
        "targeting/explanation.html",
        {"household": household, "result": result, "as_of": as_of},
    )
