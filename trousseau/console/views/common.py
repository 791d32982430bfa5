"""What every console view shares: the staff session, the school's scope, the 403 page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from trousseau.audit.events import EventTag
from trousseau.console.audit import staff_audit
from trousseau.console.authentication import Expired, current_staff
from trousseau.console.models import StaffMember
from trousseau.console.scoping import OutOfScope, ReadOnly, school_for, schools_in_scope
from trousseau.core.http import client_ip
from trousseau.directory.models import School

StaffView = Callable[..., HttpResponse]


def safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/console/") and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("console:home")


def _login_redirect(request: HttpRequest) -> HttpResponse:
    target = reverse("console:login")
    if request.method == "GET":
        target += "?" + urlencode({"next": request.get_full_path()})
    return redirect(target)


def staff_required(view: StaffView) -> StaffView:
    """The view gets the logged-in staff member as its second argument; others go to the login page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        staff = current_staff(request, ip=client_ip(request))
        if isinstance(staff, Expired):
            messages.info(request, _("Votre session a été fermée après une période d'inactivité. Reconnectez-vous."))
            return _login_redirect(request)
        if staff is None:
            return _login_redirect(request)
        response = view(request, staff, *args, **kwargs)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    return wrapper


def forbidden(request: HttpRequest, staff: StaffMember, *, reason: str, uai: str = "") -> HttpResponse:
    """403, audited: a school out of scope, or a change asked by a read-only role."""
    staff_audit(
        EventTag.CONSOLE_ACCESS_DENIED,
        staff=staff,
        school=staff.school,
        ip=client_ip(request),
        reason=reason,
        requested_school=uai[:16],
        path=request.path[:200],
        method=request.method,
    )
    context = {"staff": staff, "reason": reason}
    return render(request, "console/forbidden.html", context, status=403)


def school_view(*, act: bool = False) -> Callable[[StaffView], StaffView]:
    """The URL's `uai` becomes the school (third argument) when it is in the staff member's scope.

    `act=True` views change something: read-only roles get 403 there, and they answer POST only.
    """

    def decorate(view: StaffView) -> StaffView:
        @staff_required
        @wraps(view)
        def wrapper(request: HttpRequest, staff: StaffMember, uai: str, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                school = school_for(staff, uai)
            except OutOfScope:
                return forbidden(request, staff, reason="school", uai=uai)
            if act and not staff.can_act:
                return forbidden(request, staff, reason="read_only", uai=uai)
            if act and request.method != "POST":
                return redirect("console:school", uai=school.uai)
            try:
                return view(request, staff, school, *args, **kwargs)
            except ReadOnly:
                return forbidden(request, staff, reason="read_only", uai=uai)

        return wrapper

    return decorate


def context(staff: StaffMember, school: School | None = None, **extra: Any) -> dict[str, Any]:
    """What the console layout needs: who is there, where, and whether they see several schools."""
    return {"staff": staff, "school": school, "many_schools": schools_in_scope(staff).count() > 1, **extra}


# Every change in the console is said before it is done (issue #19): a page lists its effects, and only its
# button's POST, carrying `confirme=oui`, does it. A form that skips the page gets the page.
CONFIRMED = "oui"


def confirmed(request: HttpRequest) -> bool:
    """Whether this POST comes from a confirmation page's button."""
    return request.method == "POST" and request.POST.get("confirme") == CONFIRMED


def confirmation_page(  # noqa: PLR0913 - what the page says, where its button posts, where "Annuler" leads
    request: HttpRequest,
    staff: StaffMember,
    school: School,
    *,
    title: str,
    effects: list[str],
    button: str,
    action: str,
    cancel: str,
    intro: str = "",
    hidden: list[tuple[str, Any]] | None = None,
) -> HttpResponse:
    """The page that says what an action will do (`effects`), with the button that does it (POST to `action`
    with `hidden` and `confirme=oui`) and "Annuler" back to `cancel`."""
    page = {"title": title, "intro": intro, "effects": effects, "button": button, "action": action}
    ctx = context(staff, school, cancel=cancel, hidden=hidden or [], confirmed=CONFIRMED, **page)
    return render(request, "console/confirm.html", ctx)
