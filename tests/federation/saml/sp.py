"""A service provider built with pysaml2's *client* side (Saml2Client), independent of our IdP code.

It makes its own keys, publishes its own metadata, sends AuthnRequests (Redirect or POST, signed or
not) and reads our responses, verifying signatures against the IdP metadata we publish.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.response import AuthnResponse
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from trousseau.federation.saml.keys import _generate
from trousseau.federation.saml.metadata import PERSISTENT, idp_metadata


class PySamlSP:
    def __init__(
        self,
        directory: Path,
        *,
        entity_id: str = "https://ent.example.fr/saml/metadata.xml",
        base: str = "https://ent.example.fr",
        sign_requests: bool = False,
        slo: bool = True,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if not (directory / "key.pem").exists():
            _generate(directory, entity_id)
        self.directory = directory
        self.entity_id = entity_id
        self.acs = f"{base}/saml/acs/"
        self.slo_url = f"{base}/saml/slo/"
        self.sign_requests = sign_requests
        sp: dict[str, Any] = {
            "endpoints": {"assertion_consumer_service": [(self.acs, BINDING_HTTP_POST)]},
            "authn_requests_signed": sign_requests,
            "want_assertions_signed": True,
            "want_response_signed": True,
            "allow_unsolicited": True,
            "name_id_format": [PERSISTENT],
        }
        if slo:
            sp["endpoints"]["single_logout_service"] = [(self.slo_url, BINDING_HTTP_REDIRECT)]
        self.config = SPConfig()
        self.config.load(
            {
                "entityid": entity_id,
                "xmlsec_binary": "/usr/bin/xmlsec1",
                "key_file": str(directory / "key.pem"),
                "cert_file": str(directory / "cert.pem"),
                "encryption_keypairs": [
                    {"key_file": str(directory / "key.pem"), "cert_file": str(directory / "cert.pem")}
                ],
                "metadata": {"inline": [idp_metadata().decode()]},
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
                "service": {"sp": sp},
                "accepted_time_diff": 60,
                "delete_tmpfiles": True,
            }
        )
        self.client = Saml2Client(self.config)

    def metadata(self) -> str:
        xml: bytes = create_metadata_string(None, config=self.config, valid=None, sign=False)
        return xml.decode()

    def _idp_sso(self, binding: str) -> str:
        return str(self.client.metadata.single_sign_on_service(self._idp(), binding)[0]["location"])

    def _idp(self) -> str:
        return str(next(iter(self.client.metadata.identity_providers())))

    def redirect_request(
        self,
        *,
        relay_state: str = "",
        name_id_format: str | None = PERSISTENT,
        edit: Callable[[str], str] | None = None,
        **kw: Any,
    ) -> tuple[str, str]:
        """(request ID, the URL to GET) for the HTTP-Redirect binding; `edit` changes the XML before the
        query is signed (a request no honest client would send, signed all the same)."""
        destination = self._idp_sso(BINDING_HTTP_REDIRECT)
        req_id, req = self.client.create_authn_request(
            destination, binding=BINDING_HTTP_POST, nameid_format=name_id_format, sign=False, **kw
        )
        info = self.client.apply_binding(
            BINDING_HTTP_REDIRECT,
            edit(str(req)) if edit else str(req),
            destination,
            relay_state=relay_state,
            sign=self.sign_requests,
            sigalg=SIG_RSA_SHA256,
        )
        return req_id, dict(info["headers"])["Location"]

    def post_request(
        self, *, relay_state: str = "", name_id_format: str | None = PERSISTENT, **kw: Any
    ) -> tuple[str, str, dict[str, str]]:
        """(request ID, the URL to POST to, the form fields) for the HTTP-POST binding."""
        destination = self._idp_sso(BINDING_HTTP_POST)
        req_id, req = self.client.create_authn_request(
            destination,
            binding=BINDING_HTTP_POST,
            nameid_format=name_id_format,
            sign=self.sign_requests,
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
            **kw,
        )
        fields = {"SAMLRequest": base64.b64encode(str(req).encode()).decode()}
        if relay_state:
            fields["RelayState"] = relay_state
        return req_id, destination, fields

    def read(self, saml_response: str, request_id: str | None) -> AuthnResponse:
        """pysaml2's own checks: signatures with the IdP metadata keys, audience, recipient, timing."""
        outstanding = {request_id: "/"} if request_id else {}
        response: AuthnResponse = self.client.parse_authn_request_response(
            saml_response, BINDING_HTTP_POST, outstanding
        )
        return response


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
