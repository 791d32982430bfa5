"""Responses to service providers: signed assertion inside a signed response, encrypted on request.

The assertion says who (NameID: pairwise persistent, or transient), for whom (Audience = SP entityID,
Recipient = ACS, InResponseTo inside the signed part: node-saml#433) and for how long
(NotOnOrAfter = SAML_ASSERTION_LIFETIME). Attributes come from `claims.attributes` only.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from saml2 import samlp
from saml2.assertion import Policy, authn_statement
from saml2.saml import AUTHN_PASSWORD_PROTECTED as PASSWORD_PROTECTED_TRANSPORT
from saml2.saml import NameID

from trousseau.accounts.models import Account
from trousseau.federation import claims
from trousseau.federation.saml import idp
from trousseau.federation.saml.inbound import Pending
from trousseau.federation.saml.metadata import PERSISTENT, URI_FORMAT, idp_entity_id
from trousseau.federation.saml.models import ServiceProvider


@dataclass(frozen=True)
class Answer:
    """What the auto-POST page carries, and what single logout will need later."""

    acs_url: str
    saml_response: str  # base64
    relay_state: str
    name_id: str = ""
    name_id_format: str = ""
    session_index: str = ""


def _policy() -> Policy:
    minutes = int(settings.SAML_ASSERTION_LIFETIME.total_seconds() // 60)
    # No metadata store: what an SP gets is decided by claims and the SP's release policy, not by pysaml2.
    return Policy({"default": {"lifetime": {"minutes": minutes}, "name_form": URI_FORMAT}}, mds=None)


def name_id_for(account: Account, sp: ServiceProvider, fmt: str) -> NameID:
    value = claims.pairwise_id(account, sp.entity_id) if fmt == PERSISTENT else "_" + secrets.token_hex(20)
    return NameID(format=fmt, name_qualifier=idp_entity_id(), sp_name_qualifier=sp.entity_id, text=value)


def _encoded(response: object) -> str:
    return base64.b64encode(str(response).encode()).decode()


def authn_response(pending: Pending, account: Account, *, authn_instant: datetime) -> Answer:
    sp = ServiceProvider.objects.get(pk=pending.sp_id)
    if not pending.name_id_format:
        return error_response(pending, samlp.STATUS_INVALID_NAMEID_POLICY)
    server = idp.server_for(sp)
    name_id = name_id_for(account, sp, pending.name_id_format)
    statement = authn_statement(authn_class=PASSWORD_PROTECTED_TRANSPORT, authn_instant=int(authn_instant.timestamp()))
    session_index = statement.session_index
    encryption_certs = sp.parsed.encryption_certs
    encrypt = bool(sp.encrypt_assertions and encryption_certs)
    response = server._authn_response(  # noqa: SLF001 - the public wrapper cannot take our AuthnStatement
        pending.request_id,
        pending.acs_url,
        sp.entity_id,
        identity=claims.attributes(account, release=sp.release),
        name_id=name_id,
        authn_statement=statement,
        policy=_policy(),
        sign_assertion=True,
        sign_response=True,
        encrypt_assertion=encrypt,
        encrypt_cert_assertion=encryption_certs[0] if encrypt else None,
        # Self-contained, so the decrypted assertion is a standalone document (pysaml2 SPs need it),
        # with the response's own prefixes so python3-saml SPs verify it too (`prefixes`).
        encrypt_assertion_self_contained=True,
    )
    return Answer(
        acs_url=pending.acs_url,
        saml_response=_encoded(response),
        relay_state=pending.relay_state,
        name_id=name_id.text,
        name_id_format=name_id.format,
        session_index=session_index,
    )


def error_response(pending: Pending, status: str) -> Answer:
    """A signed Response with an error status (NoPassive, InvalidNameIDPolicy), to the checked ACS."""
    sp = ServiceProvider.objects.get(pk=pending.sp_id)
    server = idp.server_for(sp)
    response = server.create_error_response(pending.request_id, pending.acs_url, (status, ""), sign=True)
    return Answer(acs_url=pending.acs_url, saml_response=_encoded(response), relay_state=pending.relay_state)
