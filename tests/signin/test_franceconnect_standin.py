"""The relying party against the real stand-in (panva oidc-provider configured like FranceConnect v2),
walked without a browser: a cookie-keeping HTTP agent plays the person at FranceConnect."""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date
from http.cookiejar import CookieJar
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.signin.standin import StandIn, running_standin
from trousseau.accounts.models import Account
from trousseau.flows.models import Flow
from trousseau.franceconnect import keys
from trousseau.franceconnect.config import config
from trousseau.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db
PHONE = "+33612345678"


class _Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Agent:
    """Follows redirects inside the stand-in with its cookies; stops at the first address outside it."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _Stay)

    def go(self, url: str, form: dict[str, str] | None = None) -> tuple[str, str]:
        """(final URL outside the stand-in, "") or (last stand-in URL, its page)."""
        data = urlencode(form).encode() if form is not None else None
        while True:
            try:
                with self.opener.open(urllib.request.Request(url, data=data)) as response:  # noqa: S310
                    return url, response.read().decode()
            except urllib.error.HTTPError as exc:
                with exc:
                    if exc.code not in {302, 303}:
                        return url, exc.read().decode()
                    url, data = urljoin(url, exc.headers["Location"]), None
            if not url.startswith(self.origin):
                return url, ""

    def submit(self, page_url: str, page: str, form_id: str, **extra: str) -> tuple[str, str]:
        form = re.search(rf'<form[^>]*id="{re.escape(form_id)}"[^>]*>(.*?)</form>', page, re.DOTALL)
        assert form is not None, page
        action = html.unescape(re.search(r'action="([^"]+)"', form.group(0)).group(1))
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(1)))
        return self.go(urljoin(page_url, action), {**fields, **extra})


@pytest.fixture(scope="module")
def standin(tmp_path_factory) -> Iterator[StandIn]:
    with running_standin(
        tmp_path_factory.mktemp("standin"),
        redirect_uri="http://testserver/franceconnect/retour/",
        post_logout_redirect_uri="http://testserver/franceconnect/deconnexion/",
    ) as running:
        yield running


@pytest.fixture
def fc(settings, standin: StandIn) -> StandIn:
    settings.FRANCECONNECT_ENABLED = True
    settings.FRANCECONNECT_BASE_URL = standin.issuer
    settings.FRANCECONNECT_CLIENT_ID = standin.client_id
    settings.FRANCECONNECT_CLIENT_SECRET = standin.client_secret
    settings.PUBLIC_URL = "http://testserver"
    return standin


def login_at_franceconnect(client: Client, agent: Agent, who: str) -> str:
    """Press the button, pick `who` on the stand-in's login page; returns our callback's answer URL."""
    authorize = client.get(reverse("flows:franceconnect"))["Location"]
    page_url, page = agent.go(authorize)
    assert "Choisissez une identité de test" in page, page
    back, _ = agent.go(urljoin(page_url, f"{urlsplit(page_url).path}/login"), {"login": who, "password": "123"})
    assert back.startswith("http://testserver/franceconnect/retour/?"), back
    return back.removeprefix("http://testserver")


def test_discovery_is_franceconnect_v2_shaped(fc):
    document = keys.metadata(config())
    assert document["issuer"] == fc.issuer
    assert document["acr_values_supported"] == ["eidas1"]
    assert document["subject_types_supported"] == ["pairwise"]
    assert document["end_session_endpoint"] == f"{fc.issuer}/session/end"
    assert document["authorization_response_iss_parameter_supported"] is True
    assert {"ES256", "RS256"} <= set(document["id_token_signing_alg_values_supported"])


def test_the_standin_refuses_a_short_nonce_as_franceconnect_does(fc):
    query = {"client_id": fc.client_id, "response_type": "code", "scope": "openid", "acr_values": "eidas1"}
    url = f"{fc.issuer}/authorize?{urlencode({**query, 'state': 's' * 32, 'nonce': 'n' * 16})}"
    _, page = Agent(fc.origin).go(url)
    assert "Y030007" in page


def test_first_login_next_login_and_logout_at_both_ends(client, fc):
    lea = factories.pupil(first_name="Léa", birth_date=date(2012, 3, 14))
    account, _, _ = factories.guardian_account(children=[lea], mobile=PHONE)
    agent = Agent(fc.origin)
    step = client.get(login_at_franceconnect(client, agent, "sophie.dupont"))["Location"]
    flow = Flow.objects.get()
    assert len(flow.context["sub"]) == 66
    assert flow.context["sub"].endswith("v1")
    assert "Sophie DUPONT" in client.get(step).text
    client.post(step, {"country": "FR", "mobile": "0612345678"})
    code = re.search(r"\d{6}", OutboxMessage.objects.get(to=PHONE).body).group(0)
    client.post(step, {"code": code})
    done = client.post(step, {f"legal_{lea.pk}": "oui", f"birth_{lea.pk}": "2012-03-14"})
    assert done["Location"] == step  # "Votre compte est activé", with the identifier
    assert account.identifier in client.get(step).text
    account.refresh_from_db()
    assert account.franceconnect_sub == flow.context["sub"]

    logout = client.post(reverse("accounts:logout"))["Location"]
    assert logout.startswith(f"{fc.issuer}/session/end?")
    page_url, page = agent.go(logout)
    back, _ = agent.submit(page_url, page, "op.logoutForm", logout="yes")
    assert back.startswith("http://testserver/franceconnect/deconnexion/?state="), back
    assert client.get(back.removeprefix("http://testserver"))["Location"] == reverse("flows:login")

    again = client.get(login_at_franceconnect(client, agent, "sophie.dupont"))
    assert again["Location"] == reverse("accounts:home")
    assert client.session["_auth_user_id"] == str(account.pk)
    assert Flow.objects.count() == 1


def test_someone_unknown_to_the_schools_is_told_so(client, fc):
    factories.guardian(mobile=PHONE)
    step = client.get(login_at_franceconnect(client, Agent(fc.origin), "jean.inconnu"))["Location"]
    response = client.post(step, {"country": "FR", "mobile": "0612345678"})
    assert "Nous ne trouvons pas de responsable d'élève à votre nom" in response.text
    assert not Account.objects.exclude(franceconnect_sub=None).exists()


def test_cancelling_at_franceconnect(client, fc):
    agent = Agent(fc.origin)
    page_url, _ = agent.go(client.get(reverse("flows:franceconnect"))["Location"])
    back, _ = agent.go(urljoin(page_url, f"{urlsplit(page_url).path}/abort"), {})
    response = client.get(back.removeprefix("http://testserver"), follow=True)
    assert response.redirect_chain == [(reverse("flows:login"), 302)]  # no service: the mire
    assert "Vous avez annulé la connexion avec FranceConnect." in response.text
    assert not Flow.objects.exists()
