"""pysaml2's `Server`, configured for one service provider at a time, for what comes in (requests,
single logout); responses to logins are written by `outbound`.

Each server knows only its SP's metadata, so a request is verified with that SP's keys alone (never
with a key found in the message: CVE-2021-21239). Servers are cached per process and rebuilt when the
SP row, the public URL or the keys change.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import get_script_prefix
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, sigver
from saml2.attribute_converter import AttributeConverter
from saml2.config import IdPConfig
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from trousseau.federation import claims
from trousseau.federation.saml import keys
from trousseau.federation.saml.metadata import PERSISTENT, TRANSIENT, URI_FORMAT, idp_entity_id, public_url
from trousseau.federation.saml.models import ServiceProvider
from trousseau.federation.saml.signing import InProcessSigning


def attribute_converter() -> AttributeConverter:
    """Friendly name <-> urn:oid name, URI name format, from the claims table (ÉduConnect's OIDs)."""
    converter = AttributeConverter(URI_FORMAT)
    converter.from_dict(
        {
            "identifier": URI_FORMAT,
            "to": {spec.friendly_name: spec.oid for spec in claims.SPECS},
            "fro": {spec.oid: spec.friendly_name for spec in claims.SPECS},
        }
    )
    return converter


def _rsa_key_of_file(filename: str) -> Any:
    """pysaml2's `sigver.import_rsa_key_from_file`, from `keys.private_key`'s cache."""
    return keys.private_key(Path(filename))


# pysaml2 loads the IdP's private key from its file for each Server, twice (its security context and its
# metadata store's), and loading a 3072-bit RSA key checks its primes: about 0.1 s a load, 0.2 s a service
# provider in each new worker, measured. Read here once per file version instead, as `outbound` reads it.
sigver.import_rsa_key_from_file = _rsa_key_of_file


class TrousseauServer(Server):  # type: ignore[misc]
    # pysaml2 keeps every assertion in memory for AssertionIDRequest/AuthnQuery, which we do not offer.
    def support_AssertionIDRequest(self) -> bool:  # noqa: N802 - pysaml2's name
        return False

    def support_AuthnQuery(self) -> bool:  # noqa: N802 - pysaml2's name
        return False


def sso_endpoints() -> list[tuple[str, str]]:
    """This IdP's single sign-on endpoints, (URL, binding), as pysaml2's config lists them."""
    return list(_sso_endpoints(settings.PUBLIC_URL, get_script_prefix()))


@functools.lru_cache(maxsize=8)
def _sso_endpoints(public: str, script_prefix: str) -> tuple[tuple[str, str], ...]:
    # Three reverse() calls cost about 70 µs, paid by every SP-initiated sign-on through `sso_locations`:
    # built once per public URL and script prefix, the two things they depend on.
    return (
        (public_url("saml:sso_redirect"), BINDING_HTTP_REDIRECT),
        (public_url("saml:sso_post"), BINDING_HTTP_POST),
        (public_url("saml:sso_unsolicited"), BINDING_HTTP_REDIRECT),
    )


def sso_locations(binding: str) -> list[str]:
    """The URLs that take `binding`'s AuthnRequests: the Destination such a request may name.

    pysaml2's `config.endpoint("single_sign_on_service", binding, "idp")`, without building the SP's
    `Server` (its metadata parsed, both keys loaded and checked: about 0.2 s a service provider in each
    new worker) for a request that pysaml2 does not otherwise read (inbound, a query-signed Redirect)."""
    return [url for url, bound in sso_endpoints() if bound == binding]


def _config(sp: ServiceProvider) -> IdPConfig:
    binary = settings.SAML_XMLSEC_BINARY
    if not Path(binary).is_file():
        raise ImproperlyConfigured(f"xmlsec1 not found at {binary}: apt-get install xmlsec1 (make setup does it)")
    signing, encryption = keys.signing(), keys.encryption()
    config = IdPConfig()
    config.load(
        {
            "entityid": idp_entity_id(),
            "xmlsec_binary": binary,
            "key_file": str(signing.key_path),
            "cert_file": str(signing.cert_path),
            "encryption_keypairs": [{"key_file": str(encryption.key_path), "cert_file": str(encryption.cert_path)}],
            "metadata": {"inline": [sp.metadata_xml]},
            "accepted_time_diff": int(settings.SAML_CLOCK_SKEW.total_seconds()),
            "delete_tmpfiles": True,
            "service": {
                "idp": {
                    "endpoints": {
                        "single_sign_on_service": sso_endpoints(),
                        "single_logout_service": [
                            (public_url("saml:slo_redirect"), BINDING_HTTP_REDIRECT),
                            (public_url("saml:slo_post"), BINDING_HTTP_POST),
                        ],
                    },
                    # Signatures are required per SP by `inbound` (which also verifies Redirect ones).
                    "want_authn_requests_signed": False,
                    "name_id_format": [PERSISTENT, TRANSIENT],
                    # Read from this section (pysaml2 looks them up per entity type); its default is SHA-1.
                    "signing_algorithm": SIG_RSA_SHA256,
                    "digest_algorithm": DIGEST_SHA256,
                },
            },
        }
    )
    config.attribute_converters = [attribute_converter()]
    return config


_servers: dict[tuple[Any, ...], TrousseauServer] = {}
_lock = threading.Lock()
MAX_CACHED = 64


def server_for(sp: ServiceProvider) -> TrousseauServer:
    key = (sp.pk, sp.updated_at, settings.PUBLIC_URL, idp_entity_id(), keys.fingerprint())
    with _lock:
        server = _servers.get(key)
    if server is None:
        server = TrousseauServer(config=_config(sp))
        signing = keys.signing()
        server.sec.crypto = InProcessSigning(
            settings.SAML_XMLSEC_BINARY, key_file=str(signing.key_path), cert_file=str(signing.cert_path)
        )
        with _lock:
            if len(_servers) >= MAX_CACHED:
                _servers.clear()
            _servers[key] = server
    return server
