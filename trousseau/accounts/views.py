"""Logout and the account home ("Gérer mon compte"). The mire is `flows.views.login`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from trousseau.accounts.audit import audit
from trousseau.accounts.events import EventTag
from trousseau.accounts.models import Account
from trousseau.accounts.selectors import account_overview
from trousseau.accounts.sessions import session_close
from trousseau.core.http import client_ip


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if isinstance(request.user, Account):
        audit(EventTag.LOGOUT, account=request.user, ip=client_ip(request))
    session_close(request)
    return redirect("flows:login")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, Account)  # noqa: S101 - login_required guarantees it
    return render(request, "accounts/home.html", account_overview(request.user))


def coming_soon(request: HttpRequest, title: str) -> HttpResponse:
    return render(request, "accounts/coming_soon.html", {"title": title})
