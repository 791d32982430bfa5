"""Change of mobile by SMS code, from "Gérer mon compte" (the accounts app's page, `accounts.views`).

The holder proves it is them again first (the current password, or a fresh FranceConnect login for an
account without one): `accounts.changes.confirm_holder`. The code page is the shared step.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from trousseau.accounts.exceptions import FreshLoginRequired, WrongCurrentPassword
from trousseau.accounts.forms import holder_proof_refused
from trousseau.accounts.models import Account, AccountKind
from trousseau.accounts.sessions import authenticated_at
from trousseau.core.http import client_ip
from trousseau.core.refusals import TooManyTries
from trousseau.flows.change_mobile import transitions as change_mobile
from trousseau.flows.change_mobile.forms import NewMobileForm
from trousseau.flows.exceptions import FlowError
from trousseau.flows.models import Flow, FlowKind, FlowState
from trousseau.flows.steps.sms_code import code_error, code_step, refusal_page
from trousseau.flows.views.common import browser_secret, load_flow


def _account(request: HttpRequest) -> Account:
    assert isinstance(request.user, Account)  # noqa: S101 - login_required guarantees it
    return request.user


@login_required
@require_http_methods(["GET", "POST"])
def mobile_start(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    if account.kind != AccountKind.GUARDIAN:
        messages.error(request, _("Le numéro de téléphone portable se gère sur le compte d'un responsable."))
        return redirect("accounts:home")
    form = NewMobileForm(request.POST if request.method == "POST" else None, account=account)
    error = ""
    refused: FlowError | TooManyTries | None = None
    if request.method == "POST" and form.is_valid():
        try:
            flow = change_mobile.start(
                account=account,
                phone=form.cleaned_data["phone"],
                ip=client_ip(request),
                browser_secret=browser_secret(request),
                password=form.cleaned_data.get("current_password", ""),
                authenticated_at=authenticated_at(request.session),
            )
        except (WrongCurrentPassword, TooManyTries, FreshLoginRequired) as exc:
            error = holder_proof_refused(form, exc)
            if isinstance(exc, TooManyTries):  # 429 with Retry-After, as every SMS journey's wait
                refused = exc
        except FlowError as exc:
            error, refused = code_error(exc), exc
        else:
            return redirect("flows:change_mobile_step", flow_id=flow.pk)
    context = {"form": form, "error": error}
    invalid = bool(form.errors or error)
    return refusal_page(request, "flows/change_mobile/mobile.html", context, refused=refused, invalid=invalid)


def _load(request: HttpRequest, flow_id: uuid.UUID) -> Flow:
    flow = load_flow(request, flow_id, FlowKind.CHANGE_MOBILE)
    if flow.account_id != request.user.pk:
        raise PermissionDenied
    return flow


@login_required
@require_http_methods(["GET", "POST"])
def mobile_step(request: HttpRequest, flow_id: uuid.UUID) -> HttpResponse:
    flow = _load(request, flow_id)
    try:
        flow.expect(FlowState.AWAITING_CODE)
    except FlowError:
        messages.error(request, _("Ce changement de numéro n'est plus en cours. Recommencez."))
        return redirect("flows:change_mobile")

    def submit(flow: Flow, code: str, ip: str) -> HttpResponse:
        change_mobile.submit_code(flow, code=code, ip=ip)
        messages.success(request, _("Votre numéro de téléphone portable est enregistré et vérifié."))
        return redirect("accounts:home")

    return code_step(
        request,
        flow,
        resend=lambda flow, ip: change_mobile.resend_code(flow, ip=ip),
        submit=submit,
        again=lambda: redirect("flows:change_mobile_step", flow_id=flow.pk),
        template="flows/change_mobile/code.html",
        context={"phone_end": change_mobile.phone(flow)[-2:]},
        resent=_("Un nouveau code vient d'être envoyé."),
    )
