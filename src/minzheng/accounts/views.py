from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from minzheng.accounts import selectors
from minzheng.accounts.auth import actor_of
from minzheng.accounts.roles import Role
from minzheng.core.errors import ApplicationError


@login_required
def access_log(request: HttpRequest) -> HttpResponse:
    username = request.GET.get("username") or None
    try:
        qs = selectors.access_log_search(actor_of(request), username=username)
    except ApplicationError as exc:
        return render(
            request, "accounts/access_log.html", {"error": exc.message}, status=exc.status
        )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/access_log.html", {"page": page, "username": username or ""})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Where a signed-in user starts: a service provider at its orders, everyone else at
    the household registry (staff) or their own household (residents)."""
    if actor_of(request).role == Role.SERVICE_PROVIDER:
        return redirect("order_list")
    return redirect("household_list")
