"""The portal of the seeds: profile, level, "Mémoriser ce choix"."""

from __future__ import annotations

import re

from tests.ent.client import Client
from tests.ent.conftest import FixedMetadata

PROFILES = [
    "Élève ou responsable légal avec EduConnect",
    "Elève ou responsable légal sans EduConnect",
    "Enseignant",
    "Personnel non enseignant",
    "Correspondant ENT",
    "Partenaire ou Invité",
]


def test_the_portal_asks_who_is_connecting(client: Client):
    page = client.get("/")
    assert page.status == 200
    assert "Bienvenue sur l'ENT de démonstration, vous souhaitez vous connecter en tant que :" in page.text
    labels = re.findall(r'<label class="fr-label" for="profil-[^"]+">([^<]+)</label>', page.body)
    assert labels == PROFILES
    assert "Valider" in page.text
    assert page.header("Cache-Control") == "no-store"
    assert "frame-ancestors 'none'" in (page.header("Content-Security-Policy") or "")


def test_no_profile_chosen_says_so_and_stays(client: Client):
    page = client.submit(client.get("/"))
    assert page.status == 400
    assert "Choisissez un profil." in page.text
    assert 'aria-labelledby="profil-legend profil-error"' in page.body


def test_other_profiles_are_not_in_this_demo(client: Client):
    answer = client.submit(client.get("/"), profil="enseignant")
    assert answer.status == 303
    assert answer.location == "/profil/enseignant"
    page = client.get(answer.location)
    assert page.status == 200
    assert (
        "Cette démonstration ne met en œuvre que le profil « Élève ou responsable légal avec EduConnect »" in page.text
    )


def test_a_form_without_its_token_is_refused(client: Client):
    client.get("/")
    answer = client.post("/", {"profil": "educonnect"})
    assert answer.status == 403
    assert "Le formulaire a expiré" in answer.text


def test_the_level_page_offers_the_levels_and_the_memory(client: Client):
    answer = client.submit(client.get("/"), profil="educonnect")
    assert answer.location == "/niveau"
    page = client.get("/niveau")
    for text in ("École", "Collège", "Lycée", "Mémoriser ce choix", "Non (je me connecte depuis un lieu public)",
                 "Oui (je me connecte depuis mon ordinateur)", "Se connecter"):  # fmt: skip
        assert text in page.text
    assert re.search(r'value="non" checked', page.body), "« Non » is the safe default"


def test_a_level_is_required(client: Client):
    page = client.submit(client.get("/niveau"), memoriser="oui")
    assert page.status == 400
    assert "Choisissez votre niveau : école, collège ou lycée." in page.text
    assert "ent_choix" not in client.cookies


def test_remembered_choice_skips_the_portal_next_time(client: Client, metadata: FixedMetadata):
    answer = client.submit(client.get("/niveau"), niveau="college", memoriser="oui")
    assert answer.status == 302
    assert answer.location.startswith("http://idp.test/idp/profile/SAML2/Redirect/SSO?SAMLRequest=")
    cookie = next(c for c in answer.cookies_set() if c.startswith("ent_choix="))
    assert "ent_choix=educonnect.college" in cookie
    assert "Max-Age=34128000" in cookie  # 13 months
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie

    again = client.get("/")
    assert again.status == 302
    assert again.location.startswith("http://idp.test/idp/profile/SAML2/Redirect/SSO?SAMLRequest=")


def test_not_remembering_clears_an_earlier_choice(client: Client):
    client.submit(client.get("/niveau"), niveau="lycee", memoriser="oui")
    assert client.cookies["ent_choix"] == "educonnect.lycee"
    client.cookies.pop("ent_choix")
    client.cookies["ent_choix"] = "educonnect.lycee"
    answer = client.submit(client.get("/niveau"), niveau="ecole", memoriser="non")
    assert answer.status == 302
    assert "ent_choix" not in client.cookies
    assert client.get("/").status == 200


def test_forgetting_the_choice(client: Client):
    client.submit(client.get("/niveau"), niveau="college", memoriser="oui")
    page = client.get("/deconnecte")
    assert "Oublier ce choix" in page.text
    answer = client.submit(page)
    assert answer.status == 303
    assert "ent_choix" not in client.cookies
    assert client.get("/").status == 200


def test_a_tampered_memory_cookie_is_ignored(client: Client):
    client.cookies["ent_choix"] = "enseignant.college"
    assert client.get("/").status == 200
    client.cookies["ent_choix"] = "educonnect.universite"
    assert client.get("/").status == 200


def test_the_idp_being_down_is_said_plainly(client: Client, metadata: FixedMetadata):
    from ent.idp import MetadataError

    def down(*, refresh: bool = False):
        raise MetadataError("connection refused")

    metadata.get = down  # type: ignore[method-assign]
    page = client.submit(client.get("/niveau"), niveau="college", memoriser="non")
    assert page.status == 503
    assert "Le service d'authentification ne répond pas" in page.text


def test_static_files_do_not_leave_their_folders(client: Client):
    assert client.get("/static/ent/ent.css").status == 200
    assert client.get("/static/dsfr/dsfr.min.css").status == 200
    assert client.get("/static/ent/../web.py").status == 404
    assert client.get("/static/dsfr/../../../__init__.py").status == 404
