"""Trousseau seen from the ENT: its SAML metadata, fetched from a URL and kept for a few minutes.

Every signing certificate listed is trusted (key rollover: the IdP publishes the next key before it
signs with it). The ENT picks, for SSO and for logout, the binding its configuration prefers among
those the IdP offers.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from dataclasses import dataclass, field

from lxml import etree

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {"md": MD, "ds": DS}
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
MAX_METADATA_BYTES = 1_000_000


class MetadataError(Exception):
    """Trousseau's metadata could not be fetched or does not describe a usable IdP."""


@dataclass(frozen=True)
class Endpoint:
    binding: str
    location: str
    response_location: str


@dataclass(frozen=True)
class IdpMetadata:
    entity_id: str
    sso: dict[str, Endpoint]
    slo: dict[str, Endpoint]
    signing_certs: list[str]
    encryption_certs: list[str] = field(default_factory=list)

    def sso_endpoint(self, preferred: str) -> Endpoint:
        return self._pick(self.sso, preferred, "SingleSignOnService")

    def slo_endpoint(self, preferred: str) -> Endpoint | None:
        return self._pick(self.slo, preferred, "SingleLogoutService") if self.slo else None

    @staticmethod
    def _pick(endpoints: dict[str, Endpoint], preferred: str, what: str) -> Endpoint:
        for binding in (preferred, REDIRECT, POST):
            if binding in endpoints:
                return endpoints[binding]
        raise MetadataError(f"the IdP offers no {what} with the HTTP-Redirect or HTTP-POST binding")


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _endpoints(descriptor: etree._Element, tag: str) -> dict[str, Endpoint]:
    found: dict[str, Endpoint] = {}
    for element in descriptor.findall(f"md:{tag}", NS):
        binding, location = element.get("Binding", ""), element.get("Location", "")
        if binding and location and binding not in found:
            found[binding] = Endpoint(binding, location, element.get("ResponseLocation") or location)
    return found


def _certs(descriptor: etree._Element, use: str) -> list[str]:
    """Certificates for `use`; a KeyDescriptor without `use` serves both."""
    values: list[str] = []
    for key in descriptor.findall("md:KeyDescriptor", NS):
        if key.get("use", use) != use:
            continue
        for cert in key.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS):
            text = "".join((cert.text or "").split())
            if text and text not in values:
                values.append(text)
    return values


def parse(xml: bytes) -> IdpMetadata:
    try:
        root = etree.fromstring(xml, parser=_parser())
    except etree.XMLSyntaxError as error:
        raise MetadataError(f"the IdP metadata is not XML: {error}") from error
    if root.tag == f"{{{MD}}}EntitiesDescriptor":
        found = root.find("md:EntityDescriptor[md:IDPSSODescriptor]", NS)
        if found is None:
            raise MetadataError("no IdP in the metadata")
        root = found
    descriptor = root.find("md:IDPSSODescriptor", NS)
    if root.tag != f"{{{MD}}}EntityDescriptor" or descriptor is None:
        raise MetadataError("the metadata has no IDPSSODescriptor")

    signing = _certs(descriptor, "signing")
    if not signing:
        raise MetadataError("the IdP metadata has no signing certificate")
    sso = _endpoints(descriptor, "SingleSignOnService")
    if not sso:
        raise MetadataError("the IdP metadata has no SingleSignOnService")
    return IdpMetadata(
        entity_id=root.get("entityID", ""),
        sso=sso,
        slo=_endpoints(descriptor, "SingleLogoutService"),
        signing_certs=signing,
        encryption_certs=_certs(descriptor, "encryption"),
    )


class MetadataSource:
    """Trousseau's metadata from its URL, refreshed when older than `ttl` seconds.

    If a refresh fails, the last good copy is kept: an IdP restart must not log every ENT user out.
    """

    def __init__(self, url: str, ttl: float) -> None:
        self.url = url
        self.ttl = ttl
        self._lock = threading.Lock()
        self._current: IdpMetadata | None = None
        self._fetched_at = 0.0

    def get(self, *, refresh: bool = False) -> IdpMetadata:
        with self._lock:
            stale = time.monotonic() - self._fetched_at > self.ttl
            if self._current is None or stale or refresh:
                try:
                    self._current = parse(self._fetch())
                    self._fetched_at = time.monotonic()
                except MetadataError:
                    if self._current is None:
                        raise
                except OSError as error:
                    if self._current is None:
                        raise MetadataError(f"cannot fetch {self.url}: {error}") from error
            return self._current

    def _fetch(self) -> bytes:
        if not self.url.startswith(("http://", "https://")):
            raise MetadataError("the IdP metadata URL must be http(s)")
        request = urllib.request.Request(self.url, headers={"Accept": "application/samlmetadata+xml"})  # noqa: S310 - scheme checked above
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            if answer.status != 200:  # noqa: PLR2004
                raise MetadataError(f"{self.url} answered {answer.status}")
            return bytes(answer.read(MAX_METADATA_BYTES))
