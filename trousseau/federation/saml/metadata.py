"""Service provider metadata read safely, and the identity provider's own metadata.

SP metadata is the only source of endpoints and keys: ACS and logout URLs come from it and never from
a request (SAML Profiles §4.1.4.1; research/security.md §2.1 item 1). It is parsed with defusedxml
(no DTD, no entities) and size-capped before anything else reads it.
"""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, SubElement, tostring

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from django.conf import settings
from django.urls import reverse

from trousseau.federation import claims
from trousseau.federation.saml import keys

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
URI_FORMAT = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
NS = {"md": MD, "ds": DS}


class MetadataError(ValueError):
    """Metadata that cannot be used; the message says why (shown to the operator)."""


@dataclass(frozen=True)
class Endpoint:
    binding: str
    location: str
    index: int = 0
    is_default: bool = False
    response_location: str = ""


@dataclass(frozen=True)
class SpMetadata:
    entity_id: str
    acs: list[Endpoint]
    slo: list[Endpoint] = field(default_factory=list)
    signing_certs: list[str] = field(default_factory=list)
    encryption_certs: list[str] = field(default_factory=list)
    encryption_methods: list[str] = field(default_factory=list)
    authn_requests_signed: bool = False
    want_assertions_signed: bool = False

    def default_acs(self) -> Endpoint | None:
        """The ACS used when a request names none: isDefault, else the lowest index (SAML Metadata §2.2.3)."""
        posts = [e for e in self.acs if e.binding == POST]
        if not posts:
            return None
        return next((e for e in posts if e.is_default), min(posts, key=lambda e: e.index))


def xs_true(value: str | None) -> bool:
    """An xs:boolean attribute that says true: "true" or "1" (XML Schema's two spellings), read as pysaml2
    reads them (any case). "1" read as false would drop what a service asked for (AuthnRequestsSigned,
    ForceAuthn)."""
    return value is not None and value.strip().lower() in {"true", "1"}


def _certs(descriptor: Element, use: str) -> list[str]:
    found = []
    for kd in descriptor.findall("md:KeyDescriptor", NS):
        if kd.get("use") in (None, "", use):
            found += ["".join((c.text or "").split()) for c in kd.findall(".//ds:X509Certificate", NS)]
    return [c for c in found if c]


def parse_sp(xml: str | bytes) -> SpMetadata:
    """One SP's metadata (an EntityDescriptor, or an EntitiesDescriptor holding exactly one)."""
    raw = xml.encode() if isinstance(xml, str) else xml
    if len(raw) > settings.SAML_METADATA_MAX_BYTES:
        raise MetadataError("metadata too large")
    try:
        root = SafeET.fromstring(raw, forbid_dtd=True)
    except (DefusedXmlException, SafeET.ParseError) as exc:
        raise MetadataError(f"unreadable XML: {exc}") from exc
    if root.tag == f"{{{MD}}}EntitiesDescriptor":
        entities = root.findall("md:EntityDescriptor", NS)
        if len(entities) != 1:
            raise MetadataError("an EntitiesDescriptor must hold exactly one EntityDescriptor here")
        root = entities[0]
    if root.tag != f"{{{MD}}}EntityDescriptor" or not root.get("entityID"):
        raise MetadataError("no EntityDescriptor with an entityID")
    sp = next(
        (d for d in root.findall("md:SPSSODescriptor", NS) if PROTOCOL in (d.get("protocolSupportEnumeration") or "")),
        None,
    )
    if sp is None:
        raise MetadataError("no SAML 2.0 SPSSODescriptor")
    acs = [
        Endpoint(
            binding=e.get("Binding", ""),
            location=e.get("Location", ""),
            index=int(e.get("index", "0") or 0),
            is_default=xs_true(e.get("isDefault")),
        )
        for e in sp.findall("md:AssertionConsumerService", NS)
    ]
    if not any(e.binding == POST and e.location.startswith(("https://", "http://")) for e in acs):
        raise MetadataError("no HTTP-POST AssertionConsumerService")
    slo = [
        Endpoint(
            binding=e.get("Binding", ""),
            location=e.get("Location", ""),
            response_location=e.get("ResponseLocation", ""),
        )
        for e in sp.findall("md:SingleLogoutService", NS)
        if e.get("Binding") in (POST, REDIRECT)
    ]
    methods = [
        m.get("Algorithm", "")
        for kd in sp.findall("md:KeyDescriptor", NS)
        if kd.get("use") in (None, "", "encryption")
        for m in kd.findall("md:EncryptionMethod", NS)
    ]
    return SpMetadata(
        entity_id=root.get("entityID", ""),
        acs=acs,
        slo=slo,
        signing_certs=_certs(sp, "signing"),
        encryption_certs=_certs(sp, "encryption"),
        encryption_methods=[m for m in methods if m],
        authn_requests_signed=xs_true(sp.get("AuthnRequestsSigned")),
        want_assertions_signed=xs_true(sp.get("WantAssertionsSigned")),
    )


def fetch(url: str) -> bytes:
    """Download metadata over HTTP(S), size-capped; the operator typed the URL, nobody else."""
    if not url.startswith(("https://", "http://")):
        raise MetadataError("metadata URL must be http(s)")
    try:
        with urllib.request.urlopen(url, timeout=settings.SAML_METADATA_TIMEOUT) as response:  # noqa: S310 - scheme checked above
            body: bytes = response.read(settings.SAML_METADATA_MAX_BYTES + 1)
    except OSError as exc:
        raise MetadataError(f"download failed: {exc}") from exc
    if len(body) > settings.SAML_METADATA_MAX_BYTES:
        raise MetadataError("metadata too large")
    return body


# --- The identity provider's metadata ---------------------------------------------------------------


def public_url(name: str) -> str:
    return settings.PUBLIC_URL.rstrip("/") + reverse(name)


def idp_entity_id() -> str:
    return settings.SAML_ENTITY_ID or settings.PUBLIC_URL.rstrip("/") + "/idp"


def _key_descriptor(parent: Element, use: str, cert_b64: str) -> None:
    kd = SubElement(parent, f"{{{MD}}}KeyDescriptor", {"use": use})
    SubElement(
        SubElement(SubElement(kd, f"{{{DS}}}KeyInfo"), f"{{{DS}}}X509Data"), f"{{{DS}}}X509Certificate"
    ).text = cert_b64


def idp_metadata() -> bytes:
    """EntityDescriptor of the IdP: both signing certificates during a rollover, SSO/SLO endpoints."""
    root = Element(f"{{{MD}}}EntityDescriptor", {"entityID": idp_entity_id()})
    idp = SubElement(root, f"{{{MD}}}IDPSSODescriptor", {"protocolSupportEnumeration": PROTOCOL})
    _key_descriptor(idp, "signing", keys.signing().cert_b64)
    upcoming = keys.next_signing()
    if upcoming is not None:
        _key_descriptor(idp, "signing", upcoming.cert_b64)
    _key_descriptor(idp, "encryption", keys.encryption().cert_b64)
    for binding, name in ((REDIRECT, "saml:slo_redirect"), (POST, "saml:slo_post")):
        SubElement(idp, f"{{{MD}}}SingleLogoutService", {"Binding": binding, "Location": public_url(name)})
    for fmt in (PERSISTENT, TRANSIENT):
        SubElement(idp, f"{{{MD}}}NameIDFormat").text = fmt
    for binding, name in ((REDIRECT, "saml:sso_redirect"), (POST, "saml:sso_post")):
        SubElement(idp, f"{{{MD}}}SingleSignOnService", {"Binding": binding, "Location": public_url(name)})
    for spec in claims.SPECS:
        SubElement(
            idp,
            f"{{{SAML}}}Attribute",
            {"Name": spec.oid, "NameFormat": URI_FORMAT, "FriendlyName": spec.friendly_name},
        )
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="unicode").encode()
