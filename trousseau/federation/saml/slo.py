"""Single logout: LogoutRequests from SPs, and front-channel LogoutRequests to every SP of the session.

Front channel means the browser carries each message, one SP after the other (a LogoutRequest out,
the SP's LogoutResponse back to our SLO endpoint, then the next SP). Hidden iframes would be quicker
but browsers no longer send an SP's `SameSite=Lax` cookie inside a cross-site frame, so its session
could not be found. An SP that never answers stops the chain; coming back to /idp/profile/Logout
carries on with the next one. Messages go only to endpoints from metadata (research/security.md §2.1
item 6), Redirect binding first (what most SP libraries handle), signed.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from saml2 import BINDING_HTTP_REDIRECT, samlp
from saml2.pack import http_redirect_message
from saml2.s_utils import sid, success_status_factory
from saml2.saml import NameID
from saml2.time_util import instant
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from trousseau.federation.saml import idp, inbound
from trousseau.federation.saml.metadata import POST, REDIRECT, Endpoint, idp_entity_id
from trousseau.federation.saml.models import ServiceProvider

logger = logging.getLogger("trousseau.saml")

QUEUE_KEY = "saml_logout_queue"  # participations still to log out
WAITING_KEY = "saml_logout_waiting"  # {"id", "sp_id"} of the LogoutRequest the browser carries now
REPLY_KEY = "saml_logout_reply"  # the SP-initiated request to answer once everything is done
KEYS = (QUEUE_KEY, WAITING_KEY, REPLY_KEY)


@dataclass(frozen=True)
class Outgoing:
    """A message for the browser to carry: a redirect (query-signed) or an auto-POST form (XML-signed)."""

    url: str
    fields: list[tuple[str, str]] | None = None  # None: `url` is a Redirect-binding URL


@dataclass(frozen=True)
class LogoutIn:
    sp: ServiceProvider
    request_id: str
    name_id: str
    session_indexes: list[str]
    relay_state: str
    signed: bool


def _endpoint(sp: ServiceProvider) -> Endpoint | None:
    by_binding = {e.binding: e for e in reversed(sp.parsed.slo)}
    return by_binding.get(REDIRECT) or by_binding.get(POST)


def _send(sp: ServiceProvider, message: Any, kind: str, relay_state: str = "") -> Outgoing | None:
    endpoint = _endpoint(sp)
    if endpoint is None:
        return None
    server = idp.server_for(sp)
    url = endpoint.response_location if kind == "SAMLResponse" and endpoint.response_location else endpoint.location
    message.destination = url
    if endpoint.binding == REDIRECT:
        info = http_redirect_message(
            str(message), url, relay_state, kind, sigalg=SIG_RSA_SHA256, sign=True, backend=server.sec.sec_backend
        )
        return Outgoing(url=dict(info["headers"])["Location"])
    signed = server.sign(message, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
    fields = [(kind, base64.b64encode(str(signed).encode()).decode())]
    return Outgoing(url=url, fields=[*fields, ("RelayState", relay_state)] if relay_state else fields)


def logout_request_in(params: inbound.Params, binding: str) -> LogoutIn:
    """A checked LogoutRequest; unsigned ones are acted on only if they name this session (view's job)."""
    decoded = inbound.decode(params.get("SAMLRequest") or "", binding, "LogoutRequest")
    sp = inbound.service_provider(decoded.issuer)
    relay_state = inbound.relay_state(params.get("RelayState"))
    signed = decoded.has_xml_signature or (
        binding == BINDING_HTTP_REDIRECT and inbound.verify_redirect_signature(params, sp, "SAMLRequest")
    )
    parsed = inbound.parse_signed(sp, decoded, params, "SAMLRequest", "parse_logout_request")
    message = parsed.message
    inbound.check_instant(message.issue_instant)
    inbound.remember_id(sp, str(message.id))
    name_id = message.name_id.text.strip() if message.name_id is not None and message.name_id.text else ""
    indexes = [i.text.strip() for i in message.session_index or [] if i.text]
    return LogoutIn(sp, str(message.id), name_id, indexes, relay_state, signed)


def logout_response_in(params: inbound.Params, binding: str) -> tuple[str, str]:
    """(issuer, InResponseTo) of an SP's LogoutResponse: it only moves our chain on, so no more is needed."""
    decoded = inbound.decode(params.get("SAMLResponse") or "", binding, "LogoutResponse")
    return decoded.issuer, decoded.root.get("InResponseTo", "")


def reply_later(session: SessionBase, incoming: LogoutIn) -> None:
    session[REPLY_KEY] = {"sp_id": incoming.sp.pk, "id": incoming.request_id, "relay_state": incoming.relay_state}


def snapshot(session: SessionBase) -> dict[str, Any]:
    return {key: session[key] for key in KEYS if key in session}


def start(session: SessionBase, participations: list[dict[str, Any]], saved: dict[str, Any]) -> None:
    """After the local session ended: queue every SP of it, except the one that asked (it is answered)."""
    reply = saved.get(REPLY_KEY)
    asking = reply["sp_id"] if reply else None
    session[QUEUE_KEY] = [p for p in participations if p["sp_id"] != asking]
    if reply:
        session[REPLY_KEY] = reply


def acknowledge(session: SessionBase, issuer: str, in_response_to: str) -> bool:
    waiting = session.get(WAITING_KEY)
    if not waiting or waiting["id"] != in_response_to:
        return False
    sp = ServiceProvider.objects.filter(pk=waiting["sp_id"]).first()
    if sp is None or sp.entity_id != issuer:
        return False
    del session[WAITING_KEY]
    return True


def _logout_request(line: dict[str, Any]) -> tuple[str, Outgoing] | None:
    sp = ServiceProvider.objects.filter(pk=line["sp_id"], enabled=True).first()
    if sp is None:
        return None
    server = idp.server_for(sp)
    name_id = NameID(
        format=line["format"], name_qualifier=idp_entity_id(), sp_name_qualifier=sp.entity_id, text=line["name_id"]
    )
    message = samlp.LogoutRequest(
        id=sid(),
        version="2.0",
        issue_instant=instant(),
        issuer=server._issuer(),  # noqa: SLF001 - pysaml2's Issuer element for this IdP
        name_id=name_id,
        session_index=[samlp.SessionIndex(text=line["session_index"])] if line.get("session_index") else [],
    )
    outgoing = _send(sp, message, "SAMLRequest")
    return (str(message.id), outgoing) if outgoing else None


def _logout_response(reply: dict[str, Any]) -> Outgoing | None:
    sp = ServiceProvider.objects.filter(pk=reply["sp_id"]).first()
    if sp is None:
        return None
    server = idp.server_for(sp)
    message = samlp.LogoutResponse(
        id=sid(),
        version="2.0",
        issue_instant=instant(),
        issuer=server._issuer(),  # noqa: SLF001 - pysaml2's Issuer element for this IdP
        in_response_to=reply["id"],
        status=success_status_factory(),
    )
    return _send(sp, message, "SAMLResponse", reply.get("relay_state", ""))


def next_message(session: SessionBase) -> Outgoing | None:
    """The next message of the chain for the browser, or None when every SP was asked and answered."""
    session.pop(WAITING_KEY, None)  # coming back here means moving on, answered or not
    queue = list(session.get(QUEUE_KEY, []))
    while queue:
        line = queue.pop(0)
        session[QUEUE_KEY] = queue
        sent = _logout_request(line)
        if sent is not None:
            session[WAITING_KEY] = {"id": sent[0], "sp_id": line["sp_id"]}
            return sent[1]
    session.pop(QUEUE_KEY, None)
    reply = session.pop(REPLY_KEY, None)
    return _logout_response(reply) if reply else None
