"""The ENT as a SAML 2.0 service provider, on OneLogin's python3-saml.

python3-saml validates what it is given (signatures, Destination, Audience, Issuer, InResponseTo,
NotBefore/NotOnOrAfter, SubjectConfirmation) in strict mode; this module gives it the right
settings per message and adds what it leaves to the caller: HTTP-POST binding for the AuthnRequest
and for logout messages (it only speaks HTTP-Redirect there), two keys (signing, encryption), the
SP metadata, and a second try with fresh IdP metadata when a signature does not verify (rollover).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import xmlsec
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.authn_request import OneLogin_Saml2_Authn_Request
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.logout_request import OneLogin_Saml2_Logout_Request
from onelogin.saml2.logout_response import OneLogin_Saml2_Logout_Response
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

from ent import attributes, keys
from ent.config import Config
from ent.idp import POST, REDIRECT, Endpoint, IdpMetadata, MetadataSource
from ent.sp_metadata import PERSISTENT, metadata_xml

log = logging.getLogger("ent.saml")

BINDINGS = {"redirect": REDIRECT, "post": POST}


class Refused(Exception):
    """A SAML message the ENT will not act on; `reason` is for the log, never for the page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Redirect:
    url: str


@dataclass(frozen=True)
class AutoPost:
    """A form the browser posts at once (HTTP-POST binding)."""

    url: str
    fields: dict[str, str]


Outgoing = Redirect | AutoPost


@dataclass(frozen=True)
class Login:
    """What a valid Response said: who, for how long, and whether the assertion came encrypted."""

    name_id: str
    name_id_format: str
    name_id_nq: str | None
    name_id_spnq: str | None
    session_index: str | None
    session_not_on_or_after: int | None
    assertion_id: str
    assertion_not_on_or_after: int | None
    in_response_to: str | None
    encrypted: bool
    attributes: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class LogoutAnswered:
    """The IdP's LogoutResponse to our LogoutRequest."""

    success: bool
    in_response_to: str | None


@dataclass(frozen=True)
class LogoutAsked:
    """The IdP asks the ENT to end the sessions of `name_id`; `reply` goes back to the IdP."""

    name_id: str
    session_indexes: list[str]
    reply: Outgoing


def _b64(xml: str | bytes) -> str:
    data = xml.encode() if isinstance(xml, str) else xml
    return base64.b64encode(data).decode("ascii")


class ServiceProvider:
    def __init__(self, config: Config, metadata: MetadataSource | None = None) -> None:
        self.config = config
        self.metadata = metadata or MetadataSource(config.idp_metadata_url, config.metadata_ttl_seconds)
        host = config.public_url.split("://", 1)[1]
        self.signing = keys.ensure(config.var_dir, "signing", common_name=host, uri=config.entity_id)
        self.encryption = keys.ensure(config.var_dir, "encryption", common_name=host, uri=config.entity_id)

    # --- Settings -----------------------------------------------------------------------------

    def settings(
        self,
        idp: IdpMetadata,
        *,
        key: keys.KeyPair | None = None,
        slo: Endpoint | None = None,
        want_messages_signed: bool = True,
    ) -> OneLogin_Saml2_Settings:
        sso = idp.sso_endpoint(BINDINGS[self.config.sso_binding])
        slo = slo or idp.slo_endpoint(BINDINGS[self.config.sso_binding])
        idp_data: dict[str, Any] = {
            "entityId": idp.entity_id,
            "singleSignOnService": {"url": sso.location, "binding": sso.binding},
            "x509certMulti": {"signing": idp.signing_certs, "encryption": idp.encryption_certs or idp.signing_certs},
        }
        if slo is not None:
            idp_data["singleLogoutService"] = {
                "url": slo.location,
                "responseUrl": slo.response_location,
                "binding": slo.binding,
            }
        data = {
            "strict": True,
            "debug": False,
            "sp": {
                "entityId": self.config.entity_id,
                "assertionConsumerService": {"url": self.config.acs_url, "binding": POST},
                "singleLogoutService": {"url": self.config.slo_url, "binding": REDIRECT},
                "NameIDFormat": PERSISTENT,
                "x509cert": self.signing.cert_pem,
                # The ACS decrypts with the encryption key; everything else signs with the signing key.
                "privateKey": (key or self.signing).key_pem,
            },
            "idp": idp_data,
            "security": {
                "authnRequestsSigned": True,
                "logoutRequestSigned": True,
                "logoutResponseSigned": True,
                "wantMessagesSigned": want_messages_signed,
                "wantAssertionsSigned": True,
                "wantAssertionsEncrypted": self.config.require_encryption,
                "wantNameId": True,
                "wantAttributeStatement": True,
                "requestedAuthnContext": False,
                "rejectDeprecatedAlgorithm": True,
                "signatureAlgorithm": C.RSA_SHA256,
                "digestAlgorithm": C.SHA256,
                "allowRepeatAttributeName": True,
                "allowSingleLabelDomains": True,
            },
        }
        return OneLogin_Saml2_Settings(data)

    def request_data(self, path: str, *, get: Mapping[str, str], post: Mapping[str, str], query: str) -> dict[str, Any]:
        """What python3-saml calls a request, built from the configured public URL (never from Host)."""
        scheme, rest = self.config.public_url.split("://", 1)
        host, _, base = rest.partition("/")
        return {
            "https": "on" if scheme == "https" else "off",
            "http_host": host,
            "script_name": ("/" + base if base else "") + path,
            "get_data": dict(get),
            "post_data": dict(post),
            "query_string": query,
            # Verify Redirect-binding signatures over the query string exactly as the IdP encoded it.
            "validate_signature_from_qs": True,
        }

    # --- Metadata -----------------------------------------------------------------------------

    def metadata_xml(self) -> bytes:
        return metadata_xml(self.config, self.signing, self.encryption)

    # --- Single sign-on -----------------------------------------------------------------------

    def start_login(self, relay_state: str) -> tuple[str, Outgoing]:
        """A signed AuthnRequest; returns its ID (to match InResponseTo) and how to send it."""
        idp = self.metadata.get()
        settings = self.settings(idp)
        sso = idp.sso_endpoint(BINDINGS[self.config.sso_binding])
        if sso.binding == REDIRECT:
            auth = OneLogin_Saml2_Auth(self.request_data("/", get={}, post={}, query=""), old_settings=settings)
            url = auth.login(return_to=relay_state)
            return str(auth.get_last_request_id()), Redirect(url)
        request = OneLogin_Saml2_Authn_Request(settings)
        signed = OneLogin_Saml2_Utils.add_sign(
            request.get_xml(),
            self.signing.key_pem,
            self.signing.cert_pem,
            sign_algorithm=C.RSA_SHA256,
            digest_algorithm=C.SHA256,
        )
        return str(request.get_id()), AutoPost(sso.location, {"SAMLRequest": _b64(signed), "RelayState": relay_state})

    def accept_response(self, saml_response: str, request_data: dict[str, Any], request_id: str | None) -> Login:
        """Validate a Response posted to the ACS, decrypting its assertion if it is encrypted."""
        try:
            return self._accept(self.metadata.get(), saml_response, request_data, request_id)
        except Refused as first:
            if "ignature" not in first.reason:
                raise
            # The IdP may have rolled its signing key over since the metadata was fetched.
            return self._accept(self.metadata.get(refresh=True), saml_response, request_data, request_id)

    def _accept(
        self, idp: IdpMetadata, saml_response: str, request_data: dict[str, Any], request_id: str | None
    ) -> Login:
        settings = self.settings(idp, key=self.encryption)
        try:
            response = OneLogin_Saml2_Response(settings, saml_response)
        except Exception as error:  # not base64, not XML, or an assertion we cannot decrypt
            raise Refused(f"unreadable Response: {error}") from error
        if not response.is_valid(request_data, request_id):
            raise Refused(str(response.get_error()))
        in_response_to = response.get_in_response_to()
        if in_response_to is not None and request_id is None:
            # An answer to a request this browser did not make here (or whose RelayState was used).
            raise Refused(f"Response to {in_response_to}, which is not a request awaiting its answer")
        if in_response_to is None and not self.config.allow_unsolicited:
            raise Refused("unsolicited Response (no InResponseTo) refused by configuration")
        friendly = response.get_friendlyname_attributes()
        by_name = response.get_attributes()
        return Login(
            name_id=str(response.get_nameid()),
            name_id_format=str(response.get_nameid_format() or ""),
            name_id_nq=response.get_nameid_nq(),
            name_id_spnq=response.get_nameid_spnq(),
            session_index=response.get_session_index(),
            session_not_on_or_after=response.get_session_not_on_or_after(),
            assertion_id=str(response.get_assertion_id()),
            assertion_not_on_or_after=response.get_assertion_not_on_or_after(),
            in_response_to=in_response_to,
            encrypted=bool(response.encrypted),
            attributes=attributes.by_friendly_name(by_name, friendly),
        )

    # --- Single logout ------------------------------------------------------------------------

    def start_logout(self, login: Login, relay_state: str) -> tuple[str, Outgoing] | None:
        """A signed LogoutRequest for this login, or None if the IdP has no logout endpoint."""
        idp = self.metadata.get()
        slo = idp.slo_endpoint(REDIRECT)
        if slo is None:
            return None
        settings = self.settings(idp, slo=slo)
        name = {
            "name_id": login.name_id,
            "session_index": login.session_index,
            "nq": login.name_id_nq,
            "name_id_format": login.name_id_format or None,
            "spnq": login.name_id_spnq,
        }
        if slo.binding == REDIRECT:
            auth = OneLogin_Saml2_Auth(self.request_data("/", get={}, post={}, query=""), old_settings=settings)
            url = auth.logout(return_to=relay_state, **name)
            return str(auth.get_last_request_id()), Redirect(url)
        request = OneLogin_Saml2_Logout_Request(settings, **name)
        signed = OneLogin_Saml2_Utils.add_sign(
            request.get_xml(),
            self.signing.key_pem,
            self.signing.cert_pem,
            sign_algorithm=C.RSA_SHA256,
            digest_algorithm=C.SHA256,
        )
        return str(request.id), AutoPost(slo.location, {"SAMLRequest": _b64(signed), "RelayState": relay_state})

    def receive_logout(
        self, request_data: dict[str, Any], *, binding: str, request_id: str | None
    ) -> LogoutAnswered | LogoutAsked:
        """A LogoutResponse (to our request) or a LogoutRequest (from the IdP) at the SLO endpoint."""
        if binding == REDIRECT:
            return self._receive_redirect(request_data, request_id)
        return self._receive_post(request_data, request_id)

    def _receive_redirect(self, request_data: dict[str, Any], request_id: str | None) -> LogoutAnswered | LogoutAsked:
        idp = self.metadata.get()
        get = request_data["get_data"]
        settings = self.settings(idp, slo=idp.slo_endpoint(REDIRECT))
        auth = OneLogin_Saml2_Auth(request_data, old_settings=settings)
        if "SAMLResponse" in get:
            answer = _load(OneLogin_Saml2_Logout_Response, settings, get["SAMLResponse"])
            if not auth.validate_response_signature(get):
                raise Refused(f"LogoutResponse signature: {auth.get_last_error_reason()}")
            if not answer.is_valid(request_data, request_id):
                raise Refused(f"LogoutResponse: {answer.get_error()}")
            return LogoutAnswered(answer.get_status() == C.STATUS_SUCCESS, answer.get_in_response_to())
        if "SAMLRequest" not in get:
            raise Refused("no SAMLRequest or SAMLResponse")
        xml = _load(OneLogin_Saml2_Logout_Request, settings, get["SAMLRequest"]).get_xml()
        # python3-saml checks the signature and the message, and builds the signed answer.
        url = auth.process_slo(keep_local_session=True)
        if auth.get_errors():
            raise Refused(f"LogoutRequest: {auth.get_errors()} {auth.get_last_error_reason()}")
        return LogoutAsked(
            str(OneLogin_Saml2_Logout_Request.get_nameid(xml)),
            list(OneLogin_Saml2_Logout_Request.get_session_indexes(xml)),
            Redirect(str(url)),
        )

    def _receive_post(self, request_data: dict[str, Any], request_id: str | None) -> LogoutAnswered | LogoutAsked:
        idp = self.metadata.get()
        post = request_data["post_data"]
        kind = "SAMLResponse" if "SAMLResponse" in post else "SAMLRequest" if "SAMLRequest" in post else ""
        if not kind:
            raise Refused("no SAMLRequest or SAMLResponse")
        try:
            xml = OneLogin_Saml2_Utils.b64decode(post[kind])
            root = OneLogin_Saml2_XML.to_etree(xml)
        except Exception as error:
            raise Refused(f"unreadable logout message: {error}") from error
        _verify_enveloped_signature(root, idp.signing_certs)
        # The enveloped signature is checked: python3-saml checks the rest (Destination, Issuer, …).
        slo = idp.slo_endpoint(POST)
        settings = self.settings(idp, slo=slo, want_messages_signed=False)
        redirect_like = {**request_data, "get_data": {}}
        if kind == "SAMLResponse":
            answer = OneLogin_Saml2_Logout_Response(settings, post[kind])
            if not answer.is_valid(redirect_like, request_id):
                raise Refused(f"LogoutResponse: {answer.get_error()}")
            return LogoutAnswered(answer.get_status() == C.STATUS_SUCCESS, answer.get_in_response_to())
        request = OneLogin_Saml2_Logout_Request(settings, post[kind])
        if not request.is_valid(redirect_like):
            raise Refused(f"LogoutRequest: {request.get_error()}")
        reply = OneLogin_Saml2_Logout_Response(settings)
        reply.build(request.id)
        signed = OneLogin_Saml2_Utils.add_sign(
            reply.get_xml(),
            self.signing.key_pem,
            self.signing.cert_pem,
            sign_algorithm=C.RSA_SHA256,
            digest_algorithm=C.SHA256,
        )
        fields = {"SAMLResponse": _b64(signed)}
        if "RelayState" in post:
            fields["RelayState"] = post["RelayState"]
        xml_text = request.get_xml()
        return LogoutAsked(
            str(OneLogin_Saml2_Logout_Request.get_nameid(xml_text)),
            list(OneLogin_Saml2_Logout_Request.get_session_indexes(xml_text)),
            AutoPost(settings.get_idp_slo_response_url(), fields),
        )


def _load(kind: Any, settings: OneLogin_Saml2_Settings, message: str) -> Any:
    """A logout message read by python3-saml, or Refused if it is not base64/deflate/XML."""
    try:
        return kind(settings, message)
    except Exception as error:
        raise Refused(f"unreadable logout message: {error}") from error


def _verify_enveloped_signature(root: Any, certs: list[str]) -> None:
    """The message itself is signed (not some element inside it) by one of the IdP's keys."""
    signatures = OneLogin_Saml2_XML.query(root, "/*/ds:Signature")
    if len(signatures) != 1:
        raise Refused("the logout message is not signed")
    references = OneLogin_Saml2_XML.query(signatures[0], "./ds:SignedInfo/ds:Reference")
    if len(references) != 1 or references[0].get("URI") != "#" + (root.get("ID") or "\0"):
        raise Refused("the logout message signature does not cover the message")
    xmlsec.tree.add_ids(root, ["ID"])
    for cert in certs:
        try:
            if OneLogin_Saml2_Utils.validate_node_sign(signatures[0], root, OneLogin_Saml2_Utils.format_cert(cert)):
                return
        except Exception as error:  # noqa: BLE001 - try the next key
            log.debug("logout signature not made with this key: %s", error)
    raise Refused("the logout message signature does not verify")
