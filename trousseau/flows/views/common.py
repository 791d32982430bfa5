"""What every step view shares: the browser binding, safe redirects, loading a flow."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from trousseau.core import continuation
from trousseau.core.secrets import token
from trousseau.flows.exceptions import ForeignFlow, WrongState
from trousseau.flows.models import Flow, FlowKind, FlowState

BROWSER_KEY = "flow_browser"


def browser_secret(request: HttpRequest) -> str:
    """A random value kept in this browser's session; flows are bound to its digest."""
    secret = request.session.get(BROWSER_KEY)
    if not secret:
        secret = token()
        request.session[BROWSER_KEY] = secret
    return str(secret)


def safe_next(request: HttpRequest) -> str:
    """Where a login goes: the `next` it was given (this site only), else the service this browser was on
    its way to before a detour (core/continuation.py), else the account page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    pending = continuation.current(request.session)
    return pending.next_url if pending else reverse("accounts:home")


def load_flow(request: HttpRequest, flow_id: uuid.UUID, kind: FlowKind) -> Flow:
    flow = get_object_or_404(Flow.objects.select_related("account"), pk=flow_id, kind=kind)
    try:
        flow.check_binding(request.session.get(BROWSER_KEY))
    except ForeignFlow as exc:
        raise PermissionDenied from exc
    return flow


def run_step(
    request: HttpRequest, flow: Flow, steps: Mapping[str, Callable[[HttpRequest, Flow], HttpResponse]]
) -> HttpResponse:
    """Answer with the handler of the flow's current state; FlowError if none or the flow expired."""
    handler = steps.get(flow.state)
    if handler is None:
        raise WrongState
    flow.expect(FlowState(flow.state))
    return handler(request, flow)
