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
from saml2.saml import NameID
from saml2.xmldsig import SIG_RSA_SHA256

from tests.federation.saml.helpers import first_form, guardian, log_in
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.federation import claims
from trousseau.federation.saml.metadata import PERSISTENT

pytestmark = pytest.mark.django_db
SSO_POST = "/idp/profile/SAML2/POST/SSO"
SLO_POST = "/idp/profile/SAML2/POST/SLO"
SLO_POST_URL = "http://testserver" + SLO_POST
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
    # What the attacker wants from each message: a fresh login, or a logout for a made-up reason.
    evil.set(*(("ForceAuthn", "true") if evil.tag == f"{{{SAMLP}}}AuthnRequest" else ("Reason", "urn:evil")))
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
    tampered.set("Reason" if tampered.tag == f"{{{SAMLP}}}LogoutRequest" else "ForceAuthn", "urn:evil")
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


# --- The same catalogue against a signed LogoutRequest (POST binding) ------------------------------
# The victim's browser has a session at the SP; the attacker holds a LogoutRequest the SP really
# signed for someone else (their own, say), already used. Wrapped under a fresh ID, it must not end
# the victim's session: a signature that does not cover the root is no signature, and an unsigned
# request may only end the session it names.


@pytest.fixture
def victim(client, pysp, registered):
    log_in(client, guardian())
    request_id, url = pysp.redirect_request()
    pysp.read(first_form(client.get(url).content.decode())["fields"]["SAMLResponse"], request_id)
    return client


def _someone_elses_signed_logout(pysp) -> etree._Element:
    other = guardian()
    name_id = NameID(format=PERSISTENT, text=claims.pairwise_id(other, pysp.entity_id))
    _, request = pysp.client.create_logout_request(
        SLO_POST_URL, "http://testserver/idp", name_id=name_id, sign=True, sign_alg=SIG_RSA_SHA256
    )
    return etree.fromstring(str(request).encode())


def test_the_untouched_signed_logout_request_is_honoured(victim, pysp):
    """The control: the SP's signed request, as it is, ends the browser's session."""
    original = _someone_elses_signed_logout(pysp)
    posted = victim.post(SLO_POST, {"SAMLRequest": base64.b64encode(etree.tostring(original)).decode()})
    assert posted["Location"] == "/idp/profile/Logout"


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda attack: attack.__name__)
def test_logout_request_wrapping_is_refused(victim, pysp, attack):
    message = etree.tostring(attack(_someone_elses_signed_logout(pysp)))
    page = victim.post(SLO_POST, {"SAMLRequest": base64.b64encode(message).decode()})
    assert page.status_code == 400
    assert "_auth_user_id" in victim.session
    assert AuditEvent.objects.filter(tag=EventTag.SAML_REFUSED).count() == 1
