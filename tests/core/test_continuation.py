"""The pending login of a browser and the services registry (trousseau/core/continuation.py), with both
protocols' catalogues as Django starts them."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.urls import reverse
from django.utils.module_loading import import_string
from oauth2_provider.models import get_application_model

from tests import factories
from tests.federation.conftest import active_guardian
from trousseau.core import continuation
from trousseau.core.continuation import MAX_AGE, Ending
from trousseau.federation.oidc.models import ClientProfile
from trousseau.federation.saml import state
from trousseau.federation.saml.inbound import Pending
from trousseau.federation.saml.models import ServiceProvider

pytestmark = pytest.mark.django_db
SSO = "/idp/profile/SAML2/Redirect/SSO"
PRONOTE_CALLBACK = "https://pronote.example/callback"


@pytest.fixture
def session() -> SessionBase:
    store: type[SessionBase] = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    return store()


@pytest.fixture
def ent() -> ServiceProvider:
    return ServiceProvider.objects.create(
        entity_id="https://ent.example/sp", name="ENT du collège", home_url="https://ent.example/", metadata_xml="<x/>"
    )


@pytest.fixture
def pronote() -> ClientProfile:
    application = get_application_model().objects.create(
        name="Pronote",
        client_id="pronote",
        client_type="confidential",
        authorization_grant_type="authorization-code",
        redirect_uris=PRONOTE_CALLBACK,
        algorithm="RS256",
    )
    return ClientProfile.objects.create(application=application, home_url="https://pronote.example/")


def saml_login(session: SessionBase, sp: ServiceProvider) -> str:
    """The URL of the SAML login page of a request of `sp` pending in this session."""
    pending = Pending(sp.pk, sp.entity_id, "_request", "https://ent.example/acs", "relay")
    return f"{SSO}?{urlencode({'execution': state.begin(session, pending)})}"


def authorize(client_id: str = "pronote", redirect_uri: str = PRONOTE_CALLBACK) -> str:
    query = {"client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code", "scope": "openid"}
    return f"{reverse('oidc:authorize')}?{urlencode(query)}"


def test_a_saml_request_is_remembered_until_it_is_gone(session, ent):
    login = saml_login(session, ent)
    continuation.remember(session, login)
    pending = continuation.current(session)
    assert pending is not None
    assert pending.next_url == login
    assert pending.service == continuation.service(f"saml:{ent.pk}")
    assert pending.service is not None
    assert pending.service.name == "ENT du collège"
    assert continuation.snapshot(session) == {"next": login, "service": f"saml:{ent.pk}"}
    state.finish(session, login.rsplit("=", 1)[1])  # dropped or answered elsewhere: it cannot be followed now
    assert continuation.current(session) is None
    assert continuation.snapshot(session) == {}


def test_an_oidc_request_is_remembered_and_names_its_client(session, pronote):
    continuation.remember(session, authorize())
    pending = continuation.current(session)
    assert pending is not None
    assert pending.next_url == authorize()
    assert pending.service is not None
    assert (pending.service.name, pending.service.home_url) == ("Pronote", "https://pronote.example/")


def test_forget_ends_the_pending_login_but_its_page_still_names_the_service(session, ent, pronote):
    login = saml_login(session, ent)
    continuation.remember(session, login)
    continuation.forget(session)
    assert continuation.current(session) is None
    assert continuation.snapshot(session) == {}
    assert continuation.ending(session, {}) == Ending()
    # The answered request's own login page, reopened, names the service; another page names nothing.
    assert continuation.remembered_service(session, login) == continuation.service(f"saml:{ent.pk}")
    assert continuation.remembered_service(session, f"{SSO}?execution=e9s1") is None
    # A new request starts afresh.
    continuation.remember(session, authorize())
    found = continuation.current(session)
    assert found is not None
    assert found.service_key == f"oidc:{pronote.application.pk}"


def test_forget_without_a_pending_login_keeps_nothing(session):
    continuation.forget(session)
    assert continuation.SESSION_KEY not in session
    assert continuation.remembered_service(session) is None


def test_a_pending_login_older_than_max_age_is_not_resumed(session, pronote, monkeypatch):
    now = 1_800_000_000
    monkeypatch.setattr("trousseau.core.continuation.time.time", lambda: now)
    continuation.remember(session, authorize())
    monkeypatch.setattr("trousseau.core.continuation.time.time", lambda: now + MAX_AGE)
    assert continuation.current(session) is not None
    monkeypatch.setattr("trousseau.core.continuation.time.time", lambda: now + MAX_AGE + 1)
    assert continuation.current(session) is None
    assert continuation.snapshot(session) == {}


@pytest.mark.parametrize(
    "next_url",
    [
        "/compte/",
        "/compte/services/",
        "https://evil.example" + SSO + "?execution=e1s1",
        "//evil.example" + SSO + "?execution=e1s1",
        SSO + "?execution=e7s1",  # no such request in this browser
        "/idp/profile/oidc/authorize?client_id=unknown&redirect_uri=https%3A%2F%2Fevil.example%2F",
        "https://evil.example/idp/profile/oidc/authorize?client_id=pronote",
        "",
    ],
)
def test_a_next_that_is_not_a_services_request_is_not_remembered(session, ent, pronote, next_url):
    saml_login(session, ent)  # e1s1 exists, but only as a path of this site
    continuation.remember(session, next_url)
    assert continuation.SESSION_KEY not in session
    assert continuation.current(session) is None


def test_ending_follows_the_pending_login_else_names_the_kept_service(session, ent, pronote):
    login = saml_login(session, ent)
    continuation.remember(session, login)
    kept = continuation.snapshot(session)
    assert continuation.ending(session, kept) == Ending(next_url=login)
    # Another browser (an email link): nothing pending there, the flow's snapshot names the service.
    other = import_string(f"{settings.SESSION_ENGINE}.SessionStore")()
    assert continuation.ending(other, kept) == Ending(gone=continuation.service(f"saml:{ent.pk}"))
    assert continuation.ending(other, {}) == Ending()
    assert continuation.ending(other, None) == Ending()
    # A service disabled since is named no more.
    ServiceProvider.objects.filter(pk=ent.pk).update(enabled=False)
    assert continuation.ending(other, kept) == Ending()


def test_services_are_found_by_key_in_their_own_catalogue_only(ent, pronote):
    assert continuation.service(f"saml:{ent.pk}") is not None
    assert continuation.service(f"oidc:{pronote.application.pk}") is not None
    for key in ("", "saml:", "saml:x", f"oidc:{ent.pk + 1000}", "ldap:1", f"saml:{ent.pk + 1000}"):
        assert continuation.service(key) is None


def test_listed_gives_the_enabled_services_with_a_home_page_by_name(ent, pronote):
    ServiceProvider.objects.create(entity_id="https://off.example/sp", name="Éteint", home_url="https://off.example/",
                                   metadata_xml="<x/>", enabled=False)  # fmt: skip
    ServiceProvider.objects.create(entity_id="https://nohome.example/sp", name="Sans accueil", metadata_xml="<x/>")
    assert [found.name for found in continuation.listed()] == ["ENT du collège", "Pronote"]


# --- No open redirect through `next` ------------------------------------------------------------------

EVIL = ["https://evil.example/", "//evil.example/", "/\\evil.example/", "https:evil.example", "javascript:alert(1)"]


@pytest.mark.parametrize("next_url", EVIL)
def test_a_login_never_leads_off_site(client, next_url):
    account = active_guardian()
    answer = client.post(
        reverse("flows:login"),
        {"identifier": account.identifier, "password": factories.GOOD_PASSWORD, "next": next_url},
    )
    assert answer.status_code == 302
    assert answer["Location"] == reverse("accounts:home")
    assert continuation.SESSION_KEY not in client.session


@pytest.mark.parametrize("next_url", EVIL)
def test_already_logged_in_continue_never_leads_off_site(client, next_url):
    client.force_login(active_guardian())
    page = client.get(reverse("flows:login"), {"next": next_url})
    assert "Vous êtes déjà connecté" in page.text
    assert re.findall(r'<a class="fr-btn" href="([^"]*)">', page.content.decode()) == ["/compte/"]


def test_a_remembered_authorize_url_with_a_foreign_redirect_uri_still_cannot_leave(client, pronote):
    """The catalogue names the client by its id; the authorization endpoint still checks the URI."""
    client.force_login(active_guardian())
    forged = authorize(redirect_uri="https://evil.example/callback")
    page = client.get(reverse("flows:login"), {"next": forged})
    assert "Continuer vers « Pronote »" in page.text
    followed = client.get(forged)
    assert "evil.example" not in followed.get("Location", "")
