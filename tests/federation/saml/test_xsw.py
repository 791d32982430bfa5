"""XML signature wrapping (XSW) against signed AuthnRequests, the catalogue of "On Breaking SAML"
(Somorovsky et al., 2012) adapted to a protocol message whose root carries an enveloped signature.

Each case keeps the SP's genuinely signed request somewhere in the message, so a verifier that only
asks "is there a valid signature in here?" would accept it, and makes the root an evil request: another
ID and ForceAuthn, which the SP never asked for. The IdP must verify that the
signature covers the root it acts on, and refuse every case: 400, no SAMLResponse, one audit entry.
The evil requests name the registered ACS, so only the signature check stands between them and an
answer (a logged-in browser would otherwise be shown the mire again, for ForceAuthn).
pysaml2's own XSW fixtures are Responses signed with its test keys and are not shipped in its packages,
so these shapes are built here from a request our test SP really signed.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable

import pytest
from lxml import etree

from tests.federation.saml.helpers import guardian, log_in
from trousseau.accounts.events import EventTag
from trousseau.accounts.models import AuditEvent

pytestmark = pytest.mark.django_db
SSO_POST = "/idp/profile/SAML2/POST/SSO"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
DS = "http://www.w3.org/2000/09/xmldsig#"


def _signature(root: etree._Element) -> etree._Element:
    found = root.find(f"{{{DS}}}Signature")
    assert found is not None
    return found


def _evil(original: etree._Element, *, same_id: bool = False) -> etree._Element:
    """A copy of the signed request without its signature, turned evil (the attacker's message)."""
    evil = copy.deepcopy(original)
    evil.remove(_signature(evil))
    if not same_id:
        evil.set("ID", "_evil")
    evil.set("ForceAuthn", "true")
    return evil


def _extensions(parent: etree._Element) -> etree._Element:
    """samlp:Extensions, which the schema places right after Issuer and Signature."""
    element = etree.Element(f"{{{SAMLP}}}Extensions")
    parent.insert(1, element)
    return element


def xsw1_original_in_signature_object(original: etree._Element) -> etree._Element:
    """Evil root, the original signature under it, the signed original in that signature's ds:Object."""
    evil = _evil(original)
    signature = copy.deepcopy(_signature(original))
    signed = copy.deepcopy(original)
    signed.remove(_signature(signed))
    etree.SubElement(signature, f"{{{DS}}}Object").append(signed)
    evil.insert(1, signature)
    return evil


def xsw2_original_as_detached_sibling(original: etree._Element) -> etree._Element:
    """Evil root, the signed original (signature removed) before the original signature, detached."""
    evil = _evil(original)
    signed = copy.deepcopy(original)
    signed.remove(_signature(signed))
    evil.insert(1, signed)
    evil.insert(2, copy.deepcopy(_signature(original)))
    return evil


def extensions_with_signed_original(original: etree._Element) -> etree._Element:
    """Unsigned evil root; the whole signed original, signature included, hidden in its Extensions."""
    evil = _evil(original)
    _extensions(evil).append(copy.deepcopy(original))
    return evil


def wrapper_in_extensions(original: etree._Element) -> etree._Element:
    """As above, with the signed original inside an unknown wrapper element (schema-lax content)."""
    evil = _evil(original)
    wrapper = etree.SubElement(_extensions(evil), "{urn:example:evil}Wrapper")
    wrapper.append(copy.deepcopy(original))
    return evil


def same_id_with_signed_original(original: etree._Element) -> etree._Element:
    """Evil root with the *same* ID as the original, the signature moved onto it, the original inside."""
    evil = _evil(original, same_id=True)
    evil.insert(1, copy.deepcopy(_signature(original)))
    _extensions(evil).append(copy.deepcopy(original))
    return evil


def signature_moved_to_evil_root(original: etree._Element) -> etree._Element:
    """Evil root carrying the original signature, the signed original appended as its last child."""
    evil = _evil(original)
    evil.insert(1, copy.deepcopy(_signature(original)))
    signed = copy.deepcopy(original)
    signed.remove(_signature(signed))
    evil.append(signed)
    return evil


def original_signature_plus_evil_attribute(original: etree._Element) -> etree._Element:
    """No wrapping at all: the signed request itself, changed (the baseline any verifier must catch)."""
    tampered = copy.deepcopy(original)
    tampered.set("ForceAuthn", "true")
    return tampered


ATTACKS: list[Callable[[etree._Element], etree._Element]] = [
    xsw1_original_in_signature_object,
    xsw2_original_as_detached_sibling,
    extensions_with_signed_original,
    wrapper_in_extensions,
    same_id_with_signed_original,
    signature_moved_to_evil_root,
    original_signature_plus_evil_attribute,
]


def test_the_untouched_signed_request_is_answered(client, signing_sp):
    """The control: the request the attacks start from is accepted as it is."""
    log_in(client, guardian())
    _, action, fields = signing_sp.post_request()
    page = client.post(action, fields)
    assert page.status_code == 200
    assert "SAMLResponse" in page.content.decode()


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda attack: attack.__name__)
def test_signature_wrapping_is_refused(client, signing_sp, attack):
    log_in(client, guardian())
    _, _, fields = signing_sp.post_request()
    original = etree.fromstring(base64.b64decode(fields["SAMLRequest"]))
    message = etree.tostring(attack(original))
    page = client.post(SSO_POST, {"SAMLRequest": base64.b64encode(message).decode()})
    body = page.content.decode()
    assert page.status_code == 400
    assert "SAMLResponse" not in body
    assert "pas valable" in page.text
    assert AuditEvent.objects.filter(tag=EventTag.SAML_REFUSED).count() == 1
