"""'Mot de passe perdu': by SMS code (a flow) or by email link; every answer the same whether or not anything matched."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from trousseau.accounts.models import Account
from trousseau.accounts.passwords import COMPOSITION_RULES
from trousseau.core.http import client_ip
from trousseau.flows.exceptions import FlowError, LinkInvalid
from trousseau.flows.lost_password import transitions as lost_password
from trousseau.flows.lost_password.forms import LostPasswordForm
from trousseau.flows.models import FlowKind, FlowState
from trousseau.flows.steps.ending import continue_url, finish, kept_for_flow
from trousseau.flows.steps.forms import NewPasswordForm
from trousseau.flows.steps.sms_code import code_then_next_step
from trousseau.flows.views.common import browser_secret, load_flow


def _password_changed() -> str:
    return _("Votre mot de passe a été modifié. Connectez-vous avec votre nouveau mot de passe.")


def _link_invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "flows/lost_password/link_invalid.html", status=400)


def _password_form(request: HttpRequest, account: Account | None) -> NewPasswordForm:
    data = request.POST if request.method == "POST" else None
    if account is None:
        return NewPasswordForm(data, identifier="", names=(), birth_dates=())
    return NewPasswordForm(
        data,
        identifier=account.identifier,
        names=(account.first_name, account.last_name),
        birth_dates=tuple(account.known_birth_dates()),
    )


@require_http_methods(["GET", "POST"])
def password_lost(request: HttpRequest) -> HttpResponse:
    form = LostPasswordForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data, ip = form.cleaned_data, client_ip(request)
        # The journey ends at the service this browser was on its way to (flows/steps/ending.py).
        kept = kept_for_flow(request.session)
        if data["channel"] == "email":
            lost_password.by_email(identifier=data["identifier"], ip=ip, kept=kept)
            back = continue_url(request, fallback="flows:login")
            return render(request, "flows/lost_password/password_link_sent.html", {"back": back})
        flow = lost_password.by_sms(
            identifier=data["identifier"], ip=ip, browser_secret=browser_secret(request), kept=kept
        )
        return redirect("flows:lost_password_step", flow_id=flow.pk)
    return render(request, "flows/lost_password/password.html", {"form": form})


@require_http_methods(["GET", "POST"])
def password_step(request: HttpRequest, flow_id: uuid.UUID) -> HttpResponse:
    flow = load_flow(request, flow_id, FlowKind.LOST_PASSWORD)
    ip = client_ip(request)
    try:
        flow.expect(FlowState(flow.state))
    except FlowError:
        messages.error(request, _("Cette demande n'est plus en cours. Recommencez."))
        return redirect("flows:lost_password")
    if flow.state == FlowState.CHOOSING_PASSWORD:
        form = _password_form(request, flow.account)
        if request.method == "POST" and form.is_valid():
            lost_password.choose_password(flow, password=form.cleaned_data["password"], ip=ip)
            # On to the service's login page, which shows the message; else the mire.
            return finish(request, flow.context, done=_password_changed(), fallback="flows:login")
        return render(request, "flows/lost_password/new_password.html", {"form": form, "rules": COMPOSITION_RULES})

    return code_then_next_step(
        request,
        flow,
        transitions=lost_password,
        step_url="flows:lost_password_step",
        template="flows/lost_password/code.html",
        context={},
        resent=_("Si un numéro est enregistré pour ce compte, un nouveau code vient d'être envoyé."),
    )


RESET_TOKEN_KEY = "lost_password_token"  # noqa: S105 - a session key name
RESET_CONTEXT_KEY = "lost_password_context"  # where the link's request started (`link_context`)
TOKEN_PLACEHOLDER = "nouveau"  # noqa: S105 - what the address shows instead of the token


def _token_out_of_the_address(uidb64: str) -> HttpResponse:
    response = redirect("flows:lost_password_link", uidb64=uidb64, token=TOKEN_PLACEHOLDER)
    response["Referrer-Policy"] = "no-referrer"  # the request that led here had the token in its address
    return response


@require_http_methods(["GET", "POST"])
def password_link(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    if token != TOKEN_PLACEHOLDER:
        # The token leaves the address at once, for the session: no Referer, history or screen shows it.
        request.session[RESET_TOKEN_KEY] = token
        request.session[RESET_CONTEXT_KEY] = lost_password.link_context(
            request.GET.get(lost_password.LINK_SERVICE_PARAM, "")
        )
        return _token_out_of_the_address(uidb64)
    token = str(request.session.get(RESET_TOKEN_KEY, ""))
    account = lost_password.link_account(uidb64, token)
    if account is None:
        return _link_invalid(request)
    form = _password_form(request, account)
    if request.method == "POST" and form.is_valid():
        try:
            lost_password.reset_by_link(
                uidb64=uidb64, token=token, password=form.cleaned_data["password"], ip=client_ip(request)
            )
        except LinkInvalid:
            return _link_invalid(request)
        request.session.pop(RESET_TOKEN_KEY, None)
        context = request.session.pop(RESET_CONTEXT_KEY, None) or {}
        # In the browser that asked: on to the service's login page. In another one (the link opened on
        # a phone): the page that names the service and offers its home page. Else the mire.
        return finish(request, context, done=_password_changed(), fallback="flows:login")
    return render(request, "flows/lost_password/new_password.html", {"form": form, "rules": COMPOSITION_RULES})
