"""A small SAML IdP for the ENT's own tests: it signs (and may encrypt) the messages Trousseau would send.

It is built on xmlsec and lxml directly, so the ENT's checks are tested against messages made
without python3-saml's helpers; the interop with Trousseau's real IdP is in tests/browser/test_ent_sso.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import xmlsec
from lxml import etree

from ent import keys
from ent.idp import IdpMetadata, parse

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
XENC = "http://www.w3.org/2001/04/xmlenc#"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
ECT = "urn:oid:1.3.6.1.4.1.20326.10.999.1."

GUARDIAN = {
    ("FrEduCtId", ECT + "57"): ["a" * 96],
    ("FrEduCtPersonAffiliation", ECT + "7"): ["resp2d"],
    ("givenName", "urn:oid:2.5.4.42"): ["Aïcha"],
    ("sn", "urn:oid:2.5.4.4"): ["MARTIN"],
    # As Trousseau sends it (issue #18): the guardian's own SIECLE PERSONNE_ID, never a child's vector or INE.
    ("FrEduCtRefId", "urn:oid:1.3.6.1.4.1.99999.1.1"): ["{ECT}" + "a" * 96, "{AAF}18|AC2D|1815002"],
    ("FrEduCtEnfant", "urn:oid:1.3.6.1.4.1.99999.1.2"): [
        "b" * 96 + "|MARTIN|Léo|0450001A",
        "c" * 96 + "|MARTIN|Inès|0450002B",
    ],
}


def _instant(delta: dt.timedelta = dt.timedelta()) -> str:
    return (dt.datetime.now(dt.UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def _id() -> str:
    return "_" + uuid.uuid4().hex


def decode_redirect(url: str) -> tuple[etree._Element, dict[str, str]]:
    """The XML message of an HTTP-Redirect URL, and its query parameters."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    message = query.get("SAMLRequest") or query["SAMLResponse"]
    xml = zlib.decompress(base64.b64decode(message), -15)
    return etree.fromstring(xml), query


@dataclass
class FakeIdp:
    base_url: str
    key_dir: Path
    entity_id: str = ""
    pair: keys.KeyPair = field(init=False)

    def __post_init__(self) -> None:
        self.entity_id = self.entity_id or f"{self.base_url}/idp"
        self.pair = keys.ensure(self.key_dir, "signing", common_name="fake-idp", uri=self.entity_id)

    @property
    def sso(self) -> str:
        return f"{self.base_url}/idp/profile/SAML2/Redirect/SSO"

    @property
    def slo(self) -> str:
        return f"{self.base_url}/idp/profile/SAML2/Redirect/SLO"

    def metadata_xml(self, *, slo: bool = True, post_only: bool = False) -> bytes:
        sso_post = f'<md:SingleSignOnService Binding="{POST}" Location="{self.base_url}/idp/profile/SAML2/POST/SSO"/>'
        sso_redirect = f'<md:SingleSignOnService Binding="{REDIRECT}" Location="{self.sso}"/>'
        slo_post = f'<md:SingleLogoutService Binding="{POST}" Location="{self.base_url}/idp/profile/SAML2/POST/SLO"/>'
        slo_redirect = f'<md:SingleLogoutService Binding="{REDIRECT}" Location="{self.slo}"/>'
        logout = (slo_post if post_only else slo_redirect + slo_post) if slo else ""
        return f"""<md:EntityDescriptor xmlns:md="{MD}" xmlns:ds="{DS}" entityID="{self.entity_id}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{self.pair.cert_base64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    {logout}
    <md:NameIDFormat>{PERSISTENT}</md:NameIDFormat>
    {sso_post if post_only else sso_redirect + sso_post}
  </md:IDPSSODescriptor>
</md:EntityDescriptor>""".encode()

    def metadata(self, **options: bool) -> IdpMetadata:
        return parse(self.metadata_xml(**options))

    # --- Messages -----------------------------------------------------------------------------

    def sign(self, element: etree._Element, *, key: keys.KeyPair | None = None) -> None:
        """An enveloped RSA-SHA256 signature of `element`, placed after its Issuer."""
        pair = key or self.pair
        signature = xmlsec.template.create(
            element, xmlsec.constants.TransformExclC14N, xmlsec.constants.TransformRsaSha256, ns="ds"
        )
        issuer = element.find(f"{{{SAML}}}Issuer")
        issuer.addnext(signature)
        reference = xmlsec.template.add_reference(
            signature, xmlsec.constants.TransformSha256, uri="#" + element.get("ID")
        )
        xmlsec.template.add_transform(reference, xmlsec.constants.TransformEnveloped)
        xmlsec.template.add_transform(reference, xmlsec.constants.TransformExclC14N)
        xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(signature))
        xmlsec.tree.add_ids(element, ["ID"])
        context = xmlsec.SignatureContext()
        context.key = xmlsec.Key.from_memory(pair.key_pem, xmlsec.constants.KeyDataFormatPem)
        context.key.load_cert_from_memory(pair.cert_pem, xmlsec.constants.KeyDataFormatPem)
        context.sign(signature)

    def assertion(  # noqa: PLR0913 - every part of an assertion a test may spoil
        self,
        *,
        audience: str,
        recipient: str,
        in_response_to: str | None,
        name_id: str = "pairwise-0123456789abcdef",
        attributes: dict[tuple[str, str], list[str]] | None = None,
        lifetime: dt.timedelta = dt.timedelta(minutes=5),
        session_index: str = "_session1",
    ) -> etree._Element:
        irt = f' InResponseTo="{in_response_to}"' if in_response_to else ""
        values = "".join(
            f'<saml:Attribute Name="{oid}" FriendlyName="{friendly}" NameFormat="{URI}">'
            + "".join(f"<saml:AttributeValue>{v}</saml:AttributeValue>" for v in vals)
            + "</saml:Attribute>"
            for (friendly, oid), vals in (GUARDIAN if attributes is None else attributes).items()
        )
        xml = f"""<saml:Assertion xmlns:saml="{SAML}" ID="{_id()}" IssueInstant="{_instant()}" Version="2.0">
  <saml:Issuer>{self.entity_id}</saml:Issuer>
  <saml:Subject>
    <saml:NameID Format="{PERSISTENT}" NameQualifier="{self.entity_id}" SPNameQualifier="{audience}">{name_id}</saml:NameID>
    <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
      <saml:SubjectConfirmationData{irt} NotOnOrAfter="{_instant(lifetime)}" Recipient="{recipient}"/>
    </saml:SubjectConfirmation>
  </saml:Subject>
  <saml:Conditions NotBefore="{_instant(-dt.timedelta(minutes=1))}" NotOnOrAfter="{_instant(lifetime)}">
    <saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction>
  </saml:Conditions>
  <saml:AuthnStatement AuthnInstant="{_instant()}" SessionIndex="{session_index}">
    <saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext>
  </saml:AuthnStatement>
  <saml:AttributeStatement>{values}</saml:AttributeStatement>
</saml:Assertion>"""
        return etree.fromstring(xml)

    def response(  # noqa: PLR0913 - every part of a response a test may spoil
        self,
        *,
        destination: str,
        in_response_to: str | None,
        assertion: etree._Element,
        sign_response: bool = True,
        sign_assertion: bool = True,
        encrypt_for: str | None = None,
        key: keys.KeyPair | None = None,
        in_context: bool = False,
    ) -> str:
        """A base64 samlp:Response carrying `assertion` (signed, then encrypted if asked)."""
        irt = f' InResponseTo="{in_response_to}"' if in_response_to else ""
        response = etree.fromstring(
            f"""<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="{_id()}" Version="2.0" IssueInstant="{_instant()}" Destination="{destination}"{irt}>
  <saml:Issuer>{self.entity_id}</saml:Issuer>
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
</samlp:Response>"""
        )
        if sign_assertion:
            self.sign(assertion, key=key)
        if encrypt_for:
            response.append(self.encrypt(assertion, encrypt_for, in_context=in_context))
        else:
            response.append(assertion)
        if sign_response:
            self.sign(response, key=key)
        return base64.b64encode(etree.tostring(response)).decode()

    @staticmethod
    def encrypt(assertion: etree._Element, cert_pem: str, *, in_context: bool = False) -> etree._Element:
        """EncryptedAssertion for `cert_pem`: the assertion serialised on its own (self-contained, as
        Shibboleth and pysaml2 do), or, `in_context`, after moving it under the wrapper (its namespace
        declarations then come from outside the encrypted data)."""
        wrapper = etree.Element(f"{{{SAML}}}EncryptedAssertion", nsmap={"saml": SAML})
        template = xmlsec.template.encrypted_data_create(
            wrapper, xmlsec.constants.TransformAes128Cbc, type=xmlsec.constants.TypeEncElement, ns="xenc"
        )
        xmlsec.template.encrypted_data_ensure_cipher_value(template)
        key_info = xmlsec.template.encrypted_data_ensure_key_info(template, ns="dsig")
        encrypted_key = xmlsec.template.add_encrypted_key(key_info, xmlsec.constants.TransformRsaOaep)
        xmlsec.template.encrypted_data_ensure_cipher_value(encrypted_key)
        manager = xmlsec.KeysManager()
        manager.add_key(xmlsec.Key.from_memory(cert_pem, xmlsec.constants.KeyDataFormatCertPem, None))
        context = xmlsec.EncryptionContext(manager)
        context.key = xmlsec.Key.generate(xmlsec.constants.KeyDataAes, 128, xmlsec.constants.KeyDataTypeSession)
        if in_context:
            wrapper.append(assertion)
            context.encrypt_xml(template, assertion)
        else:
            wrapper.append(context.encrypt_binary(template, etree.tostring(assertion)))
        return wrapper

    def logout_request(self, *, destination: str, name_id: str, session_index: str | None = None) -> etree._Element:
        index = f"<samlp:SessionIndex>{session_index}</samlp:SessionIndex>" if session_index else ""
        return etree.fromstring(
            f"""<samlp:LogoutRequest xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="{_id()}" Version="2.0" IssueInstant="{_instant()}" Destination="{destination}">
  <saml:Issuer>{self.entity_id}</saml:Issuer>
  <saml:NameID Format="{PERSISTENT}">{name_id}</saml:NameID>{index}
</samlp:LogoutRequest>"""
        )

    def logout_response(self, *, destination: str, in_response_to: str) -> etree._Element:
        return etree.fromstring(
            f"""<samlp:LogoutResponse xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="{_id()}" Version="2.0" IssueInstant="{_instant()}" Destination="{destination}" InResponseTo="{in_response_to}">
  <saml:Issuer>{self.entity_id}</saml:Issuer>
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
</samlp:LogoutResponse>"""
        )

    def signed_b64(self, element: etree._Element) -> str:
        self.sign(element)
        return base64.b64encode(etree.tostring(element)).decode()

    def redirect_query(self, kind: str, element: etree._Element, relay_state: str | None) -> str:
        """The query string of an HTTP-Redirect message, signed (SigAlg RSA-SHA256) over its exact bytes."""
        from urllib.parse import quote_plus

        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        deflater = zlib.compressobj(wbits=-15)
        deflated = deflater.compress(etree.tostring(element)) + deflater.flush()
        parts = [f"{kind}={quote_plus(base64.b64encode(deflated).decode())}"]
        if relay_state is not None:
            parts.append(f"RelayState={quote_plus(relay_state)}")
        parts.append(f"SigAlg={quote_plus('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256')}")
        signed = "&".join(parts)
        key = serialization.load_pem_private_key(self.pair.key_pem.encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        signature = key.sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signed}&Signature={quote_plus(base64.b64encode(signature).decode())}"
