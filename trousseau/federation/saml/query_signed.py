"""An AuthnRequest verified by its Redirect-binding query signature, read without pysaml2.

pysaml2's `parse_authn_request` decodes and parses the message a second time, builds its classes,
checks every element against the schema's types, then the Version and the Destination: about 0.35 ms
of the worker per SP-initiated sign-on, twice in a family's morning (issue #21). For a request whose
query signature a key of the SP's metadata verified (`inbound.verify_redirect_signature`) and that
carries no XML signature of its own, this module reads what `inbound.authn_request` uses from the
tree `inbound.decode` already parsed (size-capped, without DTD), with the checks pysaml2 makes of it:
Version 2.0; an ID (any text, as pysaml2 takes it); the Destination, when given, one of the IdP's SSO
locations for the binding; xs:boolean and xs:unsignedShort values where the schema has them; at most
one of each child the schema allows once. Every other request (unsigned, the POST binding, an XML
signature to verify) still goes through pysaml2. The refusals are pysaml2's exception types, which
`inbound` turns into its own.

What neither path reads (a Subject, Conditions, RequestedAuthnContext, Scoping) is not acted on.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from saml2.s_utils import OtherError, VersionMismatch
from saml2.validate import NotValid

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
ASSERTION = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
BOOLEANS = frozenset({"true", "false", "1", "0"})  # xs:boolean, as pysaml2 takes it (any case)
# The children of an AuthnRequest (SAML core §3.2.1, §3.4.1) that may appear once at most.
ONCE = tuple(
    f"{{{namespace}}}{name}"
    for namespace, name in (
        (ASSERTION, "Issuer"),
        (DS, "Signature"),
        (SAMLP, "Extensions"),
        (ASSERTION, "Subject"),
        (SAMLP, "NameIDPolicy"),
        (ASSERTION, "Conditions"),
        (SAMLP, "RequestedAuthnContext"),
        (SAMLP, "Scoping"),
    )
)


@dataclass(frozen=True)
class NameIDPolicy:
    format: str | None


@dataclass(frozen=True)
class AuthnRequest:
    """The fields of pysaml2's AuthnRequest that `inbound.authn_request` reads, under the same names."""

    id: str
    issue_instant: str | None
    assertion_consumer_service_url: str | None
    assertion_consumer_service_index: str | None
    protocol_binding: str | None
    name_id_policy: NameIDPolicy | None
    force_authn: str | None
    is_passive: str | None


def read(root: Element, destinations: Collection[str]) -> AuthnRequest:
    """The request of `root` (a samlp:AuthnRequest); NotValid, VersionMismatch or OtherError as pysaml2."""
    get = root.get
    if get("Version") != "2.0":
        raise VersionMismatch(f"Invalid version {get('Version')} should be 2.0")
    request_id = get("ID") or ""
    if not request_id:
        raise NotValid("no ID")
    destination = get("Destination")
    if destination and destinations and destination not in destinations:
        raise OtherError("Not destined for me!")
    for name in ("ForceAuthn", "IsPassive"):
        _boolean(get(name), name)
    for name in ("AssertionConsumerServiceIndex", "AttributeConsumingServiceIndex"):
        _unsigned_short(get(name), name)
    for tag in ONCE:
        if len(root.findall(tag)) > 1:
            raise NotValid(f"more than one {tag}")
    policy = root.find(f"{{{SAMLP}}}NameIDPolicy")
    if policy is not None:
        _boolean(policy.get("AllowCreate"), "AllowCreate")
    return AuthnRequest(
        id=request_id,
        issue_instant=get("IssueInstant"),
        assertion_consumer_service_url=get("AssertionConsumerServiceURL"),
        assertion_consumer_service_index=get("AssertionConsumerServiceIndex"),
        protocol_binding=get("ProtocolBinding"),
        name_id_policy=NameIDPolicy(policy.get("Format")) if policy is not None else None,
        force_authn=get("ForceAuthn"),
        is_passive=get("IsPassive"),
    )


def _boolean(value: str | None, name: str) -> None:
    if value is not None and value.lower() not in BOOLEANS:
        raise NotValid(f"{name} is not an xs:boolean")


def _unsigned_short(value: str | None, name: str) -> None:
    if value is not None and not (re.fullmatch(r"[0-9]{1,5}", value) and int(value) <= 65535):  # noqa: PLR2004
        raise NotValid(f"{name} is not an xs:unsignedShort")
