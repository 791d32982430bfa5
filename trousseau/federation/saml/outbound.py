"""Responses to service providers: signed assertion inside a signed response, encrypted on request.

The assertion says who (NameID: pairwise persistent, or transient), for whom (Audience = SP entityID,
Recipient = ACS, InResponseTo inside the signed part: node-saml#433) and for how long
(NotOnOrAfter = SAML_ASSERTION_LIFETIME). Attributes come from `claims.attributes` only.

Both are written from templates directly in their exclusive-canonical form and signed over those
bytes (`canonical`), the assertion encrypted by `sealing`: no element tree, no pysaml2, no xmlsec on
this path, which every login takes. pysaml2 still reads requests, metadata and single logout.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings

from trousseau.accounts.models import Account
from trousseau.federation import claims
from trousseau.federation.saml import canonical, registry, sealing
from trousseau.federation.saml.canonical import SAML, SAMLP, XS, XSI, attr, text
from trousseau.federation.saml.inbound import Pending
from trousseau.federation.saml.metadata import PERSISTENT, URI_FORMAT, idp_entity_id
from trousseau.federation.saml.models import ServiceProvider

STATUS = "urn:oasis:names:tc:SAML:2.0:status:"
SUCCESS = STATUS + "Success"
RESPONDER = STATUS + "Responder"
INVALID_NAME_ID_POLICY = STATUS + "InvalidNameIDPolicy"
NO_PASSIVE = STATUS + "NoPassive"
ENTITY = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
PASSWORD_PROTECTED_TRANSPORT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"  # noqa: S105 - a URI
_ISSUER_END = b"</saml:Issuer>"


@dataclass(frozen=True)
class Answer:
    """What the auto-POST page carries, and what single logout will need later."""

    acs_url: str
    saml_response: str  # base64
    relay_state: str
    name_id: str = ""
    name_id_format: str = ""
    session_index: str = ""


def new_id() -> str:
    """An xs:ID (an NCName: it may not start with a digit), 160 random bits, as Shibboleth writes them."""
    return "_" + secrets.token_hex(20)


def instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def name_id_value(account: Account, sp: ServiceProvider, fmt: str) -> str:
    return claims.pairwise_id(account, sp.entity_id) if fmt == PERSISTENT else new_id()


def _issuer() -> str:
    return f'<saml:Issuer xmlns:saml="{SAML}" Format="{ENTITY}">{text(idp_entity_id())}</saml:Issuer>'


def _attribute_statement(values: dict[str, list[str]]) -> str:
    parts = []
    for name, vals in values.items():
        spec = claims.BY_NAME[name]
        parts.append(
            f'<saml:Attribute FriendlyName="{attr(spec.friendly_name)}" Name="{attr(spec.oid)}" '
            f'NameFormat="{URI_FORMAT}">'
            + "".join(f'<saml:AttributeValue xsi:type="xs:string">{text(v)}</saml:AttributeValue>' for v in vals)
            + "</saml:Attribute>"
        )
    return f"<saml:AttributeStatement>{''.join(parts)}</saml:AttributeStatement>" if parts else ""


@dataclass(frozen=True)
class Subject:
    """Who the assertion is about, for which request, and when they logged in."""

    name_id: str
    name_id_format: str
    session_index: str
    authn_instant: datetime


def assertion(
    pending: Pending, sp: ServiceProvider, subject: Subject, values: dict[str, list[str]], *, now: datetime
) -> bytes:
    """The signed Assertion, canonical, declaring every namespace it uses (a whole document once decrypted)."""
    assertion_id = new_id()
    until = instant(now + settings.SAML_ASSERTION_LIFETIME)
    in_response_to = f' InResponseTo="{attr(pending.request_id)}"' if pending.request_id else ""
    body = (
        f'<saml:Assertion xmlns:saml="{SAML}" xmlns:xs="{XS}" xmlns:xsi="{XSI}" '
        f'ID="{assertion_id}" IssueInstant="{instant(now)}" Version="2.0">'
        f'<saml:Issuer Format="{ENTITY}">{text(idp_entity_id())}</saml:Issuer>'
        "<saml:Subject>"
        f'<saml:NameID Format="{attr(subject.name_id_format)}" NameQualifier="{attr(idp_entity_id())}" '
        f'SPNameQualifier="{attr(sp.entity_id)}">{text(subject.name_id)}</saml:NameID>'
        f'<saml:SubjectConfirmation Method="{BEARER}">'
        f'<saml:SubjectConfirmationData{in_response_to} NotOnOrAfter="{until}" Recipient="{attr(pending.acs_url)}">'
        "</saml:SubjectConfirmationData></saml:SubjectConfirmation></saml:Subject>"
        f'<saml:Conditions NotBefore="{instant(now)}" NotOnOrAfter="{until}">'
        f"<saml:AudienceRestriction><saml:Audience>{text(sp.entity_id)}</saml:Audience></saml:AudienceRestriction>"
        "</saml:Conditions>"
        f'<saml:AuthnStatement AuthnInstant="{instant(subject.authn_instant)}" '
        f'SessionIndex="{attr(subject.session_index)}">'
        f"<saml:AuthnContext><saml:AuthnContextClassRef>{PASSWORD_PROTECTED_TRANSPORT}</saml:AuthnContextClassRef>"
        "</saml:AuthnContext></saml:AuthnStatement>"
        f"{_attribute_statement(values)}</saml:Assertion>"
    ).encode()
    return canonical.enveloped(body, assertion_id, _ISSUER_END)


def _status(code: str, sub: str = "") -> str:
    inner = f'<samlp:StatusCode Value="{attr(sub)}"></samlp:StatusCode>' if sub else ""
    return f'<samlp:Status><samlp:StatusCode Value="{attr(code)}">{inner}</samlp:StatusCode></samlp:Status>'


def response(pending: Pending, status: str, content: bytes = b"", *, now: datetime) -> bytes:
    """The signed Response around `content` (an assertion, an encrypted one, or nothing for an error)."""
    response_id = new_id()
    in_response_to = f' InResponseTo="{attr(pending.request_id)}"' if pending.request_id else ""
    head = (
        f'<samlp:Response xmlns:samlp="{SAMLP}" Destination="{attr(pending.acs_url)}" ID="{response_id}"'
        f'{in_response_to} IssueInstant="{instant(now)}" Version="2.0">{_issuer()}{status}'
    ).encode()
    return canonical.enveloped(head + content + b"</samlp:Response>", response_id, _ISSUER_END)


def _encoded(xml: bytes) -> str:
    return base64.b64encode(xml).decode()


def authn_response(
    pending: Pending, account: Account, *, authn_instant: datetime, sp: ServiceProvider | None = None
) -> Answer:
    """The answer to `pending` for `account`: attributes under the SP's release, encrypted if it asks."""
    sp = sp or pending.sp or registry.by_pk(pending.sp_id)
    if sp is None:
        raise ServiceProvider.DoesNotExist(f"SAML SP {pending.sp_id} is gone")
    if not pending.name_id_format:
        return error_response(pending, INVALID_NAME_ID_POLICY)
    now = datetime.now(UTC)
    subject = Subject(
        name_id=name_id_value(account, sp, pending.name_id_format),
        name_id_format=pending.name_id_format,
        session_index=new_id(),
        authn_instant=authn_instant,
    )
    signed = assertion(pending, sp, subject, claims.attributes(account, release=sp.release, now=now), now=now)
    encryption_certs = sp.parsed.encryption_certs
    if sp.encrypt_assertions and encryption_certs:
        algorithm = sealing.chosen(sp.parsed.encryption_methods)
        sealed = sealing.encrypted_data(signed, cert_b64=encryption_certs[0], algorithm=algorithm)
        signed = f'<saml:EncryptedAssertion xmlns:saml="{SAML}">'.encode() + sealed + b"</saml:EncryptedAssertion>"
    xml = response(pending, _status(SUCCESS), signed, now=now)
    return Answer(
        acs_url=pending.acs_url,
        saml_response=_encoded(xml),
        relay_state=pending.relay_state,
        name_id=subject.name_id,
        name_id_format=subject.name_id_format,
        session_index=subject.session_index,
    )


def error_response(pending: Pending, status: str) -> Answer:
    """A signed Response with an error status (NoPassive, InvalidNameIDPolicy), to the checked ACS."""
    xml = response(pending, _status(RESPONDER, status), now=datetime.now(UTC))
    return Answer(acs_url=pending.acs_url, saml_response=_encoded(xml), relay_state=pending.relay_state)
