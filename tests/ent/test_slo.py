"""Single logout: the ENT asks Trousseau to end the session, and Trousseau asks the ENT."""

from __future__ import annotations

import base64

import xmlsec
from lxml import etree

from ent.config import Config
from ent.saml import ServiceProvider
from ent.saml_site import Ent
from tests.ent.client import Client
from tests.ent.conftest import ENT_URL, FixedMetadata
from tests.ent.fake_idp import SAML, SAMLP, FakeIdp, decode_redirect
from tests.ent.test_sso import answer, start

SLO = f"{ENT_URL}/auth/saml/slo"
NAME_ID = "pairwise-0123456789abcdef"


def logged_in(client: Client, idp: FakeIdp) -> None:
    request_id, relay_state = start(client)
    assert answer(client, idp, request_id, relay_state).status == 303
    assert client.get("/accueil").status == 200


def test_logout_sends_a_signed_logout_request_and_ends_the_ent_session(client: Client, idp: FakeIdp):
    logged_in(client, idp)
    home = client.get("/accueil")
    leaving = client.submit(home)  # the first form is "Se déconnecter" in the header
    assert leaving.status == 302
    assert leaving.location.startswith(idp.slo + "?SAMLRequest=")
    request, query = decode_redirect(leaving.location)
    assert request.tag == f"{{{SAMLP}}}LogoutRequest"
    assert request.findtext(f"{{{SAML}}}NameID") == NAME_ID
    assert request.findtext(f"{{{SAMLP}}}SessionIndex") == "_session1"
    assert query["SigAlg"].endswith("rsa-sha256")
    assert "Signature" in query
    assert "ent_session" not in client.cookies
    assert client.get("/accueil").location == "/"

    # Trousseau answers at the ENT's SLO endpoint (HTTP-Redirect, signed).
    done = idp.logout_response(destination=SLO, in_response_to=request.get("ID"))
    back = client.get("/auth/saml/slo?" + idp.redirect_query("SAMLResponse", done, query["RelayState"]))
    assert back.status == 303
    assert back.location == "/deconnecte"
    page = client.get(back.location)
    assert "Vous êtes déconnecté(e) de l'ENT et du service d'authentification EduConnect." in page.text


def test_a_logout_response_that_does_not_verify_says_so(client: Client, idp: FakeIdp, other_idp: FakeIdp):
    logged_in(client, idp)
    request, query = decode_redirect(client.submit(client.get("/accueil")).location)
    forged = other_idp.logout_response(destination=SLO, in_response_to=request.get("ID"))
    back = client.get("/auth/saml/slo?" + other_idp.redirect_query("SAMLResponse", forged, query["RelayState"]))
    assert back.location == "/deconnecte?sso=0"
    assert "n'a pas confirmé la fin de votre session" in client.get(back.location).text


def test_logout_over_post_when_the_idp_only_offers_post(config: Config, idp: FakeIdp):
    """ÉduConnect publishes only /idp/profile/SAML2/POST/SLO: the ENT then posts an enveloped signature."""
    metadata = FixedMetadata(idp.metadata(post_only=True))
    client = Client(Ent(config, ServiceProvider(config, metadata)))
    page = client.submit(client.get("/niveau"), niveau="college", memoriser="non")
    action, fields = page.form()
    assert action == "http://idp.test/idp/profile/SAML2/POST/SSO"
    request = etree.fromstring(base64.b64decode(fields["SAMLRequest"]))
    assert answer(client, idp, request.get("ID"), fields["RelayState"]).status == 303

    leaving = client.submit(client.get("/accueil"))
    action, fields = leaving.form()
    assert action == "http://idp.test/idp/profile/SAML2/POST/SLO"
    logout = etree.fromstring(base64.b64decode(fields["SAMLRequest"]))
    xmlsec.tree.add_ids(logout, ["ID"])
    context = xmlsec.SignatureContext()
    context.key = xmlsec.Key.from_file(str(config.var_dir / "sp-signing.crt"), xmlsec.constants.KeyDataFormatCertPem)
    context.verify(logout.find("{http://www.w3.org/2000/09/xmldsig#}Signature"))

    done = idp.logout_response(destination=SLO, in_response_to=logout.get("ID"))
    back = client.post("/auth/saml/slo", {"SAMLResponse": idp.signed_b64(done), "RelayState": fields["RelayState"]})
    assert back.location == "/deconnecte"


def test_trousseau_ends_the_ent_session_over_post(client: Client, idp: FakeIdp, config: Config):
    logged_in(client, idp)
    other_browser = Client(client.app)
    request = idp.logout_request(destination=SLO, name_id=NAME_ID, session_index="_session1")
    reply = other_browser.post("/auth/saml/slo", {"SAMLRequest": idp.signed_b64(request), "RelayState": "rs"})
    assert reply.status == 200
    action, fields = reply.form()
    assert action == "http://idp.test/idp/profile/SAML2/POST/SLO"
    assert fields["RelayState"] == "rs"
    response = etree.fromstring(base64.b64decode(fields["SAMLResponse"]))
    assert response.get("InResponseTo") == request.get("ID")
    assert response.find(f"{{{SAMLP}}}Status/{{{SAMLP}}}StatusCode").get("Value").endswith(":Success")
    xmlsec.tree.add_ids(response, ["ID"])
    context = xmlsec.SignatureContext()
    context.key = xmlsec.Key.from_file(str(config.var_dir / "sp-signing.crt"), xmlsec.constants.KeyDataFormatCertPem)
    context.verify(response.find("{http://www.w3.org/2000/09/xmldsig#}Signature"))
    # The session was found by its NameID: the first browser is logged out of the ENT.
    assert client.get("/accueil").location == "/"


def test_trousseau_ends_the_ent_session_over_redirect(client: Client, idp: FakeIdp):
    logged_in(client, idp)
    request = idp.logout_request(destination=SLO, name_id=NAME_ID)
    reply = client.get("/auth/saml/slo?" + idp.redirect_query("SAMLRequest", request, "rs"))
    assert reply.status == 302
    response, query = decode_redirect(reply.location)
    assert reply.location.startswith(idp.slo + "?SAMLResponse=")
    assert response.get("InResponseTo") == request.get("ID")
    assert query["RelayState"] == "rs"
    assert "Signature" in query
    assert client.get("/accueil").location == "/"


def test_an_unsigned_or_foreign_logout_request_changes_nothing(client: Client, idp: FakeIdp, other_idp: FakeIdp):
    logged_in(client, idp)
    unsigned = idp.logout_request(destination=SLO, name_id=NAME_ID)
    raw = base64.b64encode(etree.tostring(unsigned)).decode()
    assert client.post("/auth/saml/slo", {"SAMLRequest": raw}).status == 400
    forged = other_idp.logout_request(destination=SLO, name_id=NAME_ID)
    assert client.post("/auth/saml/slo", {"SAMLRequest": other_idp.signed_b64(forged)}).status == 400
    redirect = other_idp.logout_request(destination=SLO, name_id=NAME_ID)
    assert client.get("/auth/saml/slo?" + other_idp.redirect_query("SAMLRequest", redirect, None)).status == 400
    assert client.get("/accueil").status == 200


def test_a_logout_request_whose_signature_covers_something_else_is_refused(client: Client, idp: FakeIdp):
    logged_in(client, idp)
    request = idp.logout_request(destination=SLO, name_id=NAME_ID)
    idp.sign(request)
    signature = request.find("{http://www.w3.org/2000/09/xmldsig#}Signature")
    signature.find(".//{http://www.w3.org/2000/09/xmldsig#}Reference").set("URI", "#_elsewhere")
    raw = base64.b64encode(etree.tostring(request)).decode()
    assert client.post("/auth/saml/slo", {"SAMLRequest": raw}).status == 400
    assert client.get("/accueil").status == 200


def test_logout_without_a_session_just_says_goodbye(client: Client):
    client.get("/")
    leaving = client.post("/deconnexion", {"csrf": client.cookies["ent_csrf"]})
    assert leaving.location == "/deconnecte"
