"""Messages from service providers: bounded decoding, then pysaml2, then the checks pysaml2 leaves to us.

Each SAML parameter is read once (`params_of`): a message that repeats one is refused, and a Redirect
message is decoded from the very raw query parts its signature covers (issue #15, finding 4).
Order matters (research/security.md §2.1): size caps and a DTD-free parse come first, so that entity
expansion, external entities and DEFLATE bombs never reach pysaml2 or xmlsec1; the SP is looked up by
its Issuer and only its metadata keys verify signatures; the ACS comes from metadata; the ID is
recorded last, so that a refused request does not burn it.
"""

from __future__ import annotations

import base64
import binascii
import time
import zlib
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Any
from urllib.parse import unquote_plus
from xml.etree.ElementTree import Element

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from saml2 import BINDING_HTTP_REDIRECT
from saml2.s_utils import OtherError, VersionMismatch
from saml2.sigver import SignatureError
from saml2.validate import NotValid

from trousseau.core.planned import planned_cursor
from trousseau.federation.saml import idp, keys, query_signed, registry
from trousseau.federation.saml.metadata import DS, PERSISTENT, POST, TRANSIENT, xs_true
from trousseau.federation.saml.models import SeenRequest, ServiceProvider

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
ASSERTION = "urn:oasis:names:tc:SAML:2.0:assertion"
UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
MAX_ENCODED = 64 * 1024  # what arrives in a form field or a query string
MAX_XML = 128 * 1024  # after base64 and DEFLATE: far above any real request, far below a bomb
MAX_RELAY_STATE = 80  # SAML Bindings §3.4.3 / §3.5.3
# SHA-1 (which Edifice may still send) is refused: collisions are practical.
REDIRECT_SIG_ALGS: dict[str, hashes.HashAlgorithm] = {
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": hashes.SHA256(),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": hashes.SHA384(),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": hashes.SHA512(),
}


class Refused(Exception):
    """A message we will not act on. `reason` goes to the log; the page stays generic and French."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass
class Pending:
    """A checked AuthnRequest (or an IdP-initiated one), kept in the session until it is answered."""

    sp_id: int
    entity_id: str
    request_id: str | None
    acs_url: str
    relay_state: str
    name_id_format: str = PERSISTENT
    force_authn: bool = False
    is_passive: bool = False
    # The SP's row as read to check the request, so that an answer in the same request does not read it
    # again; never stored (the session and the handoff keep the fields above only).
    sp: ServiceProvider | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "sp"}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Pending:
        return cls(**data)


@dataclass
class Decoded:
    encoded: str  # as received (pysaml2 decodes it again, now known to be small and DTD-free)
    root: Element
    binding: str

    @property
    def issuer(self) -> str:
        found = self.root.find(f"{{{ASSERTION}}}Issuer")
        return (found.text or "").strip() if found is not None else ""

    @property
    def has_xml_signature(self) -> bool:
        return self.root.find(f"{{{DS}}}Signature") is not None


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, MAX_XML + 1)
    except zlib.error as exc:
        raise Refused("bad_deflate", str(exc)) from exc
    if len(out) > MAX_XML or inflater.unconsumed_tail:
        raise Refused("too_large", "inflated message over the cap")
    return out


def decode(encoded: str, binding: str, expected: str) -> Decoded:
    """Base64 (and DEFLATE for Redirect), capped, parsed without DTD; root must be `expected`."""
    if not encoded or len(encoded) > MAX_ENCODED:
        raise Refused("too_large" if encoded else "missing_message")
    try:
        raw = base64.b64decode(encoded, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise Refused("bad_base64", str(exc)) from exc
    xml = _inflate(raw) if binding == BINDING_HTTP_REDIRECT else raw
    if len(xml) > MAX_XML:
        raise Refused("too_large")
    try:
        root = SafeET.fromstring(xml, forbid_dtd=True)
    except (DefusedXmlException, SafeET.ParseError) as exc:
        raise Refused("bad_xml", type(exc).__name__) from exc
    if root.tag != f"{{{SAMLP}}}{expected}":
        raise Refused("wrong_message", root.tag)
    return Decoded(encoded=encoded, root=root, binding=binding)


def service_provider(entity_id: str) -> ServiceProvider:
    sp = registry.enabled(entity_id)
    if sp is None:
        raise Refused("unknown_sp", entity_id[:200])
    return sp


# The parameters a binding carries (SAML Bindings §3.4.4, §3.5.4): each at most once. A repeated one
# would let the signature be checked over one copy while another is acted on.
MESSAGE_PARAMS = ("SAMLRequest", "SAMLResponse", "RelayState", "SigAlg", "Signature")


@dataclass(frozen=True)
class Params:
    """The SAML parameters of one HTTP message, each present at most once.

    `raw` keeps the Redirect binding's `name=value` parts exactly as the SP encoded them: the signature
    covers those bytes, and `values` are decoded from those very parts, never from Django's QueryDict
    (which would give the last of several).
    """

    values: dict[str, str]
    raw: dict[str, str]

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self.values


def params_of(request: HttpRequest, binding: str) -> Params:
    """The message's parameters: the raw query for Redirect, the form for POST; a repeat is refused."""
    if binding != BINDING_HTTP_REDIRECT:
        for name in MESSAGE_PARAMS:
            if len(request.POST.getlist(name)) > 1:
                raise Refused("repeated_parameter", name)
        return Params({name: request.POST[name] for name in MESSAGE_PARAMS if name in request.POST}, raw={})
    raw: dict[str, str] = {}
    for part in request.META.get("QUERY_STRING", "").split("&"):
        name = unquote_plus(part.split("=", 1)[0])  # decoded as Django does: `SAML%52equest` is SAMLRequest
        if name not in MESSAGE_PARAMS:
            continue
        if name in raw:
            raise Refused("repeated_parameter", name)
        raw[name] = part
    values = {name: unquote_plus(part.split("=", 1)[1]) if "=" in part else "" for name, part in raw.items()}
    return Params(values, raw)


def verify_redirect_signature(params: Params, sp: ServiceProvider, kind: str) -> bool:
    """Checks a Redirect-binding signature over the raw query; False when the message is unsigned."""
    signature, sig_alg = params.raw.get("Signature"), params.raw.get("SigAlg")
    if signature is None and sig_alg is None:
        return False
    if signature is None or sig_alg is None:
        raise Refused("bad_signature", "Signature without SigAlg")
    algorithm = REDIRECT_SIG_ALGS.get(params.values["SigAlg"])
    if algorithm is None:
        raise Refused("bad_signature", "unsupported SigAlg")
    parts = [params.raw.get(name) for name in (kind, "RelayState")]
    signed = "&".join(p for p in [*parts, sig_alg] if p is not None).encode()
    try:
        sig_bytes = base64.b64decode(params.values["Signature"])
    except (binascii.Error, ValueError) as exc:
        raise Refused("bad_signature", "signature not base64") from exc
    for cert_b64 in sp.parsed.signing_certs:
        key = keys.certificate_key(cert_b64)
        if not isinstance(key, rsa.RSAPublicKey):
            continue
        try:
            key.verify(sig_bytes, signed, padding.PKCS1v15(), algorithm)
        except InvalidSignature:
            continue
        return True
    raise Refused("bad_signature", "no metadata key verifies the Redirect signature")


def check_instant(value: str | None) -> None:
    issued = parse_datetime(value or "")
    if issued is None or issued.tzinfo is None:
        raise Refused("bad_issue_instant", str(value)[:40])
    now, skew = timezone.now(), settings.SAML_CLOCK_SKEW
    if issued < now - settings.SAML_REQUEST_MAX_AGE - skew or issued > now + skew:
        raise Refused("stale_request", str(value))


_last_purge: dict[int, float] = {}  # SP pk -> time.monotonic() of this process's last purge
PURGE_EVERY = 60.0  # seconds


def _purge(sp: ServiceProvider) -> None:
    """Expired IDs go, at most once a minute per SP and process: a statement saved on nearly every login.
    Rows past `expires_at` are never read as replays (`check_instant` refuses their requests first)."""
    now = time.monotonic()
    if now - _last_purge.get(sp.pk, -PURGE_EVERY) < PURGE_EVERY:
        return
    _last_purge[sp.pk] = now
    SeenRequest.objects.filter(service_provider=sp, expires_at__lt=timezone.now()).delete()


def _seen_insert() -> str:
    table = connection.ops.quote_name(SeenRequest._meta.db_table)  # noqa: SLF001 - Django's model metadata
    # The unique constraint saml_seen_once decides: a row is returned only when this ID is new.
    return (
        f"INSERT INTO {table} (service_provider_id, request_id, expires_at) VALUES (%s, %s, %s) "  # noqa: S608 - a name from metadata
        "ON CONFLICT (service_provider_id, request_id) DO NOTHING RETURNING 1"
    )


def remember_id(sp: ServiceProvider, request_id: str) -> None:
    """Refuses an ID already answered; IDs are kept as long as their request could pass `check_instant`.

    One statement, atomic by itself (the ORM's create needed a savepoint to survive the duplicate's error).
    """
    keep = settings.SAML_REQUEST_MAX_AGE + 2 * settings.SAML_CLOCK_SKEW + timedelta(minutes=1)
    _purge(sp)
    expires_at = connection.ops.adapt_datetimefield_value(timezone.now() + keep)
    with planned_cursor(connection.alias) as cursor:
        cursor.execute(_seen_insert(), [sp.pk, request_id[:256], expires_at])
        inserted = cursor.fetchone() is not None
    if not inserted:
        raise Refused("replayed", request_id[:80])


def signature_rules(sp: ServiceProvider, decoded: Decoded, params: Params, kind: str) -> bool:
    """Signature rules shared by every request type; True when a Redirect query signature was verified."""
    redirect_signed = decoded.binding == BINDING_HTTP_REDIRECT and verify_redirect_signature(params, sp, kind)
    if sp.parsed.authn_requests_signed and not (redirect_signed or decoded.has_xml_signature):
        raise Refused("unsigned", "the SP metadata says AuthnRequestsSigned")
    return redirect_signed


def parse_signed(sp: ServiceProvider, decoded: Decoded, params: Params, kind: str, parse: str) -> Any:
    """`signature_rules`, then pysaml2's parse (schema, version, Destination)."""
    signature_rules(sp, decoded, params, kind)
    return _parsed(sp, decoded, parse)


def _parsed(sp: ServiceProvider, decoded: Decoded, parse: str) -> Any:
    server = idp.server_for(sp)
    try:
        parsed = getattr(server, parse)(decoded.encoded, decoded.binding)
    except (SignatureError, NotValid, OtherError, VersionMismatch, ValueError) as exc:
        raise Refused("pysaml2", f"{type(exc).__name__}: {exc}"[:300]) from exc
    except Exception as exc:  # pysaml2 wraps signature failures in its own exception types
        if type(exc).__name__ in {"IncorrectlySigned", "UnknownPrincipal", "UnsupportedBinding"}:
            raise Refused("bad_signature", type(exc).__name__) from exc
        raise
    if parsed is None:
        raise Refused("pysaml2", "not verified")
    return parsed


def _acs(sp: ServiceProvider, message: Any) -> str:
    """The ACS URL, from metadata only: a named URL or index must be one of the SP's POST endpoints."""
    binding = message.protocol_binding
    if binding and binding != POST:
        raise Refused("unsupported_binding", binding)
    posts = [e for e in sp.parsed.acs if e.binding == POST]
    if message.assertion_consumer_service_url:
        if message.assertion_consumer_service_url not in {e.location for e in posts}:
            raise Refused("acs_not_in_metadata", message.assertion_consumer_service_url[:200])
        return str(message.assertion_consumer_service_url)
    if message.assertion_consumer_service_index is not None:
        index = int(message.assertion_consumer_service_index)
        match = next((e for e in posts if e.index == index), None)
        if match is None:
            raise Refused("acs_not_in_metadata", f"index {index}")
        return match.location
    default = sp.parsed.default_acs()
    if default is None:
        raise Refused("acs_not_in_metadata", "no default")
    return default.location


def relay_state(value: str | None) -> str:
    if value and len(value) > MAX_RELAY_STATE:
        raise Refused("relay_state_too_long")
    return value or ""


def _authn_message(sp: ServiceProvider, decoded: Decoded, params: Params) -> Any:
    """The AuthnRequest's fields: read directly when its Redirect query signature was verified and it has
    no XML signature (query_signed.py: pysaml2's checks without its second parse), else by pysaml2."""
    if signature_rules(sp, decoded, params, "SAMLRequest") and not decoded.has_xml_signature:
        try:
            return query_signed.read(decoded.root, idp.sso_locations(decoded.binding))
        except (NotValid, OtherError, VersionMismatch) as exc:
            raise Refused("not_valid", f"{type(exc).__name__}: {exc}"[:300]) from exc
    return _parsed(sp, decoded, "parse_authn_request").message


def authn_request(request: HttpRequest, binding: str) -> Pending:
    """A checked AuthnRequest from the Redirect (GET) or POST binding."""
    params = params_of(request, binding)
    decoded = decode(params.get("SAMLRequest") or "", binding, "AuthnRequest")
    sp = service_provider(decoded.issuer)
    state = relay_state(params.get("RelayState"))
    message = _authn_message(sp, decoded, params)
    check_instant(message.issue_instant)
    acs_url = _acs(sp, message)
    policy = message.name_id_policy
    requested = policy.format if policy is not None and policy.format else UNSPECIFIED
    name_id_format = TRANSIENT if requested == TRANSIENT else PERSISTENT
    if requested not in {TRANSIENT, PERSISTENT, UNSPECIFIED}:
        name_id_format = ""  # answered with InvalidNameIDPolicy, to the checked ACS
    remember_id(sp, str(message.id))
    return Pending(
        sp_id=sp.pk,
        entity_id=sp.entity_id,
        request_id=str(message.id),
        acs_url=acs_url,
        relay_state=state,
        name_id_format=name_id_format,
        # xs:boolean: "1" asks as "true" does (pysaml2 and query_signed accept both, in any case).
        force_authn=xs_true(message.force_authn),
        is_passive=xs_true(message.is_passive),
        sp=sp,
    )


def unsolicited(provider_id: str, target: str | None) -> Pending:
    """IdP-initiated SSO (Shibboleth's Unsolicited/SSO?providerId=&target=), for SPs allowed to use it."""
    sp = service_provider(provider_id)
    if not sp.allow_idp_initiated:
        raise Refused("unsolicited_not_allowed", sp.entity_id)
    default = sp.parsed.default_acs()
    if default is None:
        raise Refused("acs_not_in_metadata", "no default")
    return Pending(
        sp_id=sp.pk,
        entity_id=sp.entity_id,
        request_id=None,
        acs_url=default.location,
        relay_state=relay_state(target),
        sp=sp,
    )
