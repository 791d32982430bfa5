""" "Mes services" (accounts/views.py `services`): the services registered with a home page, for a logged-in person."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from oauth2_provider.models import get_application_model

from tests.federation.conftest import active_guardian
from trousseau.federation.oidc.models import ClientProfile
from trousseau.federation.saml.models import ServiceProvider

pytestmark = pytest.mark.django_db
URL = "/compte/services/"


def sp(name: str, home_url: str = "", *, enabled: bool = True) -> ServiceProvider:
    entity_id = f"https://{name.lower().replace(' ', '-')}.example/sp"
    return ServiceProvider.objects.create(
        entity_id=entity_id, name=name, home_url=home_url, metadata_xml="<x/>", enabled=enabled
    )


def client_app(name: str, home_url: str) -> ClientProfile:
    application = get_application_model().objects.create(
        name=name,
        client_id=name.lower(),
        client_type="confidential",
        authorization_grant_type="authorization-code",
        redirect_uris=f"https://{name.lower()}.example/cb",
        algorithm="RS256",
    )
    return ClientProfile.objects.create(application=application, home_url=home_url)


def tiles(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<h2 class="fr-tile__title"><a href="([^"]*)">([^<]*)</a></h2>', html)


def test_the_url_is_the_accounts_services():
    assert reverse("accounts:services") == URL


def test_it_requires_a_login(client):
    answer = client.get(URL)
    assert answer.status_code == 302
    assert answer["Location"] == f"{reverse('flows:login')}?next={URL}"


def test_it_lists_the_enabled_services_with_a_home_page_by_name(client):
    sp("Téléservices", "https://teleservices.example/")
    sp("ENT du collège", "https://ent.example/")
    sp("Service éteint", "https://off.example/", enabled=False)
    sp("Sans page d'accueil")
    client_app("Pronote", "https://pronote.example/")
    client_app("Cantine", "")
    client.force_login(active_guardian())
    page = client.get(URL)
    assert page.status_code == 200
    assert tiles(page.text) == [
        ("https://ent.example/", "ENT du collège"),
        ("https://pronote.example/", "Pronote"),
        ("https://teleservices.example/", "Téléservices"),
    ]
    assert "Gérer mon compte" in page.text


def test_without_services_it_says_so(client):
    client.force_login(active_guardian())
    page = client.get(URL)
    assert tiles(page.text) == []
    assert "Aucun service n'est encore proposé" in page.text
