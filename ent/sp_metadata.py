"""The ENT's SAML metadata as a service provider: what it sends the identity provider to be registered."""

from __future__ import annotations

from lxml import etree

from ent import attributes, keys
from ent.config import Config
from ent.idp import POST, REDIRECT

PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
MDUI = "urn:oasis:names:tc:SAML:metadata:ui"
URI_FORMAT = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"


def metadata_xml(config: Config, signing: keys.KeyPair, encryption: keys.KeyPair) -> bytes:
    """EntityDescriptor of the ENT: two keys, ACS (HTTP-POST), SLO (Redirect and POST), attributes asked."""
    nsmap = {"md": MD, "ds": DS, "mdui": MDUI}
    root = etree.Element(f"{{{MD}}}EntityDescriptor", nsmap=nsmap, entityID=config.entity_id)
    sp = etree.SubElement(
        root,
        f"{{{MD}}}SPSSODescriptor",
        AuthnRequestsSigned="true",
        WantAssertionsSigned="true",
        protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol",
    )
    extensions = etree.SubElement(sp, f"{{{MD}}}Extensions")
    ui = etree.SubElement(extensions, f"{{{MDUI}}}UIInfo")
    etree.SubElement(
        ui, f"{{{MDUI}}}DisplayName", {"{http://www.w3.org/XML/1998/namespace}lang": "fr"}
    ).text = config.name
    for use, pair in (("signing", signing), ("encryption", encryption)):
        descriptor = etree.SubElement(sp, f"{{{MD}}}KeyDescriptor", use=use)
        info = etree.SubElement(descriptor, f"{{{DS}}}KeyInfo")
        etree.SubElement(
            etree.SubElement(info, f"{{{DS}}}X509Data"), f"{{{DS}}}X509Certificate"
        ).text = pair.cert_base64
        if use == "encryption":
            for algorithm in ("http://www.w3.org/2009/xmlenc11#aes256-gcm", "http://www.w3.org/2009/xmlenc11#aes128-gcm",
                              "http://www.w3.org/2001/04/xmlenc#aes256-cbc", "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"):  # fmt: skip
                etree.SubElement(descriptor, f"{{{MD}}}EncryptionMethod", Algorithm=algorithm)
    for binding in (REDIRECT, POST):
        etree.SubElement(sp, f"{{{MD}}}SingleLogoutService", Binding=binding, Location=config.slo_url)
    for name_format in (PERSISTENT, TRANSIENT):
        etree.SubElement(sp, f"{{{MD}}}NameIDFormat").text = name_format
    etree.SubElement(
        sp, f"{{{MD}}}AssertionConsumerService", Binding=POST, Location=config.acs_url, index="0", isDefault="true"
    )
    service = etree.SubElement(sp, f"{{{MD}}}AttributeConsumingService", index="0", isDefault="true")
    etree.SubElement(
        service, f"{{{MD}}}ServiceName", {"{http://www.w3.org/XML/1998/namespace}lang": "fr"}
    ).text = config.name
    for spec in attributes.SPECS:
        etree.SubElement(
            service,
            f"{{{MD}}}RequestedAttribute",
            Name=spec.oid,
            NameFormat=URI_FORMAT,
            FriendlyName=spec.friendly_name,
            isRequired="true" if spec.required else "false",
        )
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
