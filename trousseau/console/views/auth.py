"""Staff login: email and password, then the TOTP code; first visit: password and authenticator setup."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from trousseau.audit.events import EventTag
from trousseau.console import authentication as auth
from trousseau.console import totp
from trousseau.console.audit import staff_audit
from trousseau.console.conf import staff_min_password_length
from trousseau.console.forms import CodeForm, EnrolmentForm, StaffLoginForm
from trousseau.console.models import StaffMember
from trousseau.console.services.staff import enrolment_complete, staff_by_enrolment_token
from trousseau.console.views.common import safe_next
from trousseau.core.http import client_ip
from trousseau.core.refusals import Throttled, too_many_tries


def _expired_login(request: HttpRequest) -> HttpResponse:
    messages.info(
        request, _("Votre connexion a expiré. Saisissez de nouveau votre adresse email et votre mot de passe.")
    )
    return redirect("console:login")


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and request.session.get(auth.STAFF_KEY):
        return redirect(safe_next(request))
    form = StaffLoginForm(request.POST if request.method == "POST" else None)
    error = ""
    if request.method == "POST" and form.is_valid():
        outcome = auth.check_staff_password(
            email=form.cleaned_data["email"], password=form.cleaned_data["password"], ip=client_ip(request)
        )
        match outcome:
            case auth.PasswordOk(staff, needs_enrolment=True):
                auth.pending_start(request, staff, auth.ENROL, secret=totp.new_secret(), next=safe_next(request))
                return redirect("console:enrol")
            case auth.PasswordOk(staff):
                auth.pending_start(request, staff, auth.CODE, next=safe_next(request))
                return redirect("console:code")
            case Throttled(minutes):
                error = too_many_tries(minutes)
            case _:
                error = _("Adresse email ou mot de passe incorrect.")
    context = {"form": form, "error": error, "next": request.POST.get("next") or request.GET.get("next", "")}
    return render(request, "console/login.html", context, status=400 if error or form.errors else 200)


@require_http_methods(["GET", "POST"])
def code_view(request: HttpRequest) -> HttpResponse:
    waiting = auth.pending(request, auth.CODE)
    if waiting is None:
        return _expired_login(request)
    staff, data = waiting
    form = CodeForm(request.POST if request.method == "POST" else None)
    error = ""
    if request.method == "POST" and form.is_valid():
        outcome = auth.check_staff_code(staff=staff, code=form.cleaned_data["code"], ip=client_ip(request))
        match outcome:
            case auth.CodeAccepted(staff):
                auth.session_open(request, staff, ip=client_ip(request))
                return redirect(str(data.get("next") or "console:home"))
            case Throttled(minutes):
                error = too_many_tries(minutes)
            case auth.CodeRefused(reused=True):
                error = _("Ce code a déjà servi. Attendez le code suivant de votre application, puis saisissez-le.")
            case _:
                error = _(
                    "Code incorrect. Vérifiez l'heure de votre téléphone et saisissez le code affiché maintenant."
                )
    context = {"form": form, "error": error, "member": staff}
    return render(request, "console/code.html", context, status=400 if error or form.errors else 200)


def enrol_link(request: HttpRequest, token: str) -> HttpResponse:
    """The one-time link printed by `console_staff_add`: it opens the enrolment page (token off the URL)."""
    staff = staff_by_enrolment_token(token)
    if staff is None:
        return render(request, "console/enrol_invalid.html", status=404)
    auth.pending_start(request, staff, auth.ENROL, secret=totp.new_secret(), next="")
    response = redirect("console:enrol")
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@require_http_methods(["GET", "POST"])
def enrol_view(request: HttpRequest) -> HttpResponse:
    waiting = auth.pending(request, auth.ENROL)
    if waiting is None:
        return _expired_login(request)
    staff, data = waiting
    secret = str(data["secret"])
    form = EnrolmentForm(request.POST if request.method == "POST" else None, staff=staff)
    error = ""
    if request.method == "POST" and form.is_valid():
        check = totp.check_code(secret, form.cleaned_data["code"], last_step=None)
        if check.step is None:
            staff_audit(
                EventTag.CONSOLE_TOTP_FAILURE, staff=staff, school=staff.school, ip=client_ip(request), step="enrolment"
            )
            error = _(
                "Code incorrect. Vérifiez que l'application a bien enregistré le code, puis saisissez le code affiché."
            )
        else:
            staff = enrolment_complete(
                staff=staff,
                password=form.cleaned_data["password"],
                secret=secret,
                step=check.step,
                ip=client_ip(request),
            )
            auth.session_open(request, staff, ip=client_ip(request))
            messages.success(
                request,
                _(
                    "Votre accès à la console est prêt. À la prochaine connexion, gardez votre téléphone à portée de main."
                ),
            )
            return redirect(str(data.get("next") or "console:home"))
    uri = totp.provisioning_uri(secret, staff.email)
    context = {
        "form": form,
        "error": error,
        "member": staff,
        "qr": totp.qr_data_uri(uri),
        "secret": totp.grouped(secret),
        "min_length": staff_min_password_length(),
    }
    return render(request, "console/enrol.html", context, status=400 if error or form.errors else 200)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    staff = auth.current_staff(request, ip=client_ip(request))
    if isinstance(staff, StaffMember):
        staff_audit(EventTag.CONSOLE_LOGOUT, staff=staff, school=staff.school, ip=client_ip(request))
    auth.session_close(request)
    messages.success(request, _("Vous êtes déconnecté(e) de la console."))
    return redirect("console:login")
