"""Single logout at /idp/profile/SAML2/{Redirect,POST}/SLO: both what SPs ask and what they answer.

Both hand over to /idp/profile/Logout (trousseau/signin/logout.py), which ends the session
everywhere (OpenID Connect included, which this package may not import) and drives the chain.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

from trousseau.federation.saml import inbound, slo, state
from trousseau.federation.saml.inbound import Refused
from trousseau.federation.saml.views.sso import refused_page

logger = logging.getLogger("trousseau.saml")


def _names_this_session(request: HttpRequest, incoming: slo.LogoutIn) -> bool:
    return any(
        p["sp_id"] == incoming.sp.pk and p["name_id"] == incoming.name_id for p in state.participations(request.session)
    )


@csrf_exempt  # SPs post here cross-site; messages are checked by signature or by session binding
@require_http_methods(["GET", "POST"])
def slo_view(request: HttpRequest, binding: str) -> HttpResponse:
    saml_binding = BINDING_HTTP_POST if binding == "post" else BINDING_HTTP_REDIRECT
    try:
        params = inbound.params_of(request, saml_binding)
        if "SAMLResponse" in params:
            issuer, in_response_to = slo.logout_response_in(params, saml_binding)
            if not slo.acknowledge(request.session, issuer, in_response_to):
                logger.info("SAML LogoutResponse from %s matched nothing pending", issuer[:200])
            return redirect("idp_logout")
        incoming = slo.logout_request_in(params, saml_binding)
    except Refused as exc:
        return refused_page(request, exc)
    # An unsigned request could come from anyone: it may only end a session it names (its NameID).
    if not incoming.signed and not _names_this_session(request, incoming):
        return refused_page(request, Refused("unsigned_logout", incoming.sp.entity_id))
    slo.reply_later(request.session, incoming)
    return redirect("idp_logout")
