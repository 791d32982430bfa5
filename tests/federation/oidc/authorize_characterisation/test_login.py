"""Requests the login decides (the mire, prompt, max_age), and what the toolkit's view still answers."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from tests.federation.oidc.authorize_characterisation.conftest import (
    CODE,
    ISS,
    ask,
    error_params,
    params,
    refusals,
    sent_back,
)
from tests.federation.oidc.conftest import AUTHORIZE, RP
from trousseau.accounts.models import Account, AccountState
from trousseau.accounts.sessions import AUTHENTICATED_AT_KEY
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.federation.oidc.models import Authorization

pytestmark = pytest.mark.django_db


def mire(response, *, prompt_login: bool) -> str:
    """The mire's URL asked for, and the authorization request it leads back to (`next`)."""
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == "/login"
    query = parse_qsl(location.query)
    assert [name for name, _ in query] == (["next", "prompt"] if prompt_login else ["next"])
    if prompt_login:
        assert query[1] == ("prompt", "login")
    return str(query[0][1])


# --- Login: the mire, prompt, max_age ----------------------------------------------------------


def _full_path(rp: RP, pairs: list[tuple[str, str]]) -> str:
    return AUTHORIZE + "?" + urlencode([(name, rp.client_id if value == "@" else value) for name, value in pairs])


@pytest.mark.parametrize(
    "pairs",
    [
        params(),
        params(client_id="nobody"),  # nothing is checked before the login
        params(redirect_uri="https://evil.example/cb"),
        params(response_type="token"),
        params(scope="openid foo"),
    ],
)
def test_not_logged_in_goes_to_the_mire_with_the_request_as_sent(rp: RP, pairs):
    response = ask(Client(), rp, pairs)
    assert mire(response, prompt_login=False) == _full_path(rp, pairs)
    assert response["Location"] == "/login?next=" + quote(_full_path(rp, pairs), safe="/")
    assert not refusals()
    assert not Authorization.objects.exists()


def test_prompt_login_goes_to_the_mires_form_without_prompt_and_max_age(browser: Client, rp: RP):
    for client in (browser, Client()):
        response = ask(client, rp, params(prompt="login", max_age="60"))
        assert mire(response, prompt_login=True) == _full_path(rp, params())
    # With none too, in a request that is not OpenID's (so none is not refused for it): none wins
    # without a login, login with one.
    response = ask(Client(), rp, params(prompt="none login", scope="profile"))
    assert sent_back(response) == [("error", "login_required"), ("state", "st"), ISS]
    response = ask(browser, rp, params(prompt="none login", scope="profile"))
    assert mire(response, prompt_login=True) == _full_path(rp, params(scope="profile"))
    assert not Authorization.objects.exists()


def test_a_logged_in_browser_with_prompt_login_is_checked_first(browser: Client, rp: RP):
    response = ask(browser, rp, params(prompt="login", client_id="nobody"))
    assert response.status_code == 400
    assert sent_back(ask(browser, rp, params(prompt="login", scope="openid foo"))) == error_params("invalid_scope")


@pytest.mark.parametrize("max_age", ["0", "-5", "600"])
def test_a_login_older_than_max_age_goes_to_the_mires_form_unchecked(browser: Client, rp: RP, max_age: str):
    session = browser.session
    session[AUTHENTICATED_AT_KEY] = (timezone.now() - timedelta(seconds=601)).isoformat()
    session.save()
    pairs = params(max_age=max_age, client_id="nobody")
    assert mire(ask(browser, rp, pairs), prompt_login=True) == _full_path(rp, params(client_id="nobody"))
    assert not refusals()


def test_prompt_none_without_a_login_is_login_required_for_a_valid_request_only(rp: RP):
    answer = sent_back(ask(Client(), rp, params(prompt="none")))
    assert answer == [("error", "login_required"), ("state", "st"), ISS]
    assert sent_back(ask(Client(), rp, params(prompt="none", drop=("state",)))) == [("error", "login_required"), ISS]
    assert sent_back(ask(Client(), rp, params(prompt="none", scope="profile"))) == answer
    assert not refusals()  # not a refusal of the client
    refused = ask(Client(), rp, params(prompt="none", redirect_uri="https://evil.example/cb"))
    assert refused.status_code == 400  # never an open redirector
    assert sent_back(ask(Client(), rp, params(prompt="none", scope="openid foo"))) == error_params("invalid_scope")
    assert sent_back(ask(Client(), rp, params(prompt="none login"))) == error_params(
        "invalid_request", "Prompt none is mutually exclusive with other values."
    )
    events = AuditEvent.objects.filter(tag=EventTag.OIDC_REFUSED).order_by("pk")
    assert [(event.data["error"], event.account_id) for event in events] == [
        ("invalid_request", None),
        ("invalid_scope", None),
        ("invalid_request", None),
    ]


def test_a_stale_login_with_prompt_none_is_login_required(browser: Client, rp: RP):
    answer = sent_back(ask(browser, rp, params(prompt="none", max_age="0")))
    assert answer == [("error", "login_required"), ("state", "st"), ISS]
    assert not refusals()
    assert not Authorization.objects.exists()


def test_a_disabled_account_is_logged_out(browser: Client, rp: RP, account: Account):
    Account.objects.filter(pk=account.pk).update(state=AccountState.DISABLED)
    assert mire(ask(browser, rp, params()), prompt_login=False) == _full_path(rp, params())
    assert not Authorization.objects.exists()


# --- What the toolkit's view still answers ----------------------------------------------------------


def test_prompt_create_is_not_supported(browser: Client, rp: RP):
    for client in (browser, Client()):
        response = ask(client, rp, params(prompt="create"))
        assert response.status_code == 400
        assert response.json() == {"error": "invalid_request", "error_description": "prompt=create is not supported"}
    assert not refusals()


def test_the_claims_parameter_is_accepted_when_well_formed(browser: Client, rp: RP):
    assert sent_back(ask(browser, rp, params(claims='{"id_token": {"sub": null}}')))[0] == ("code", CODE)
    malformed = ask(browser, rp, params(claims="{bad"))
    assert malformed.status_code == 400
    assert refusals() == ["invalid_request"]


def test_only_get(browser: Client, rp: RP):
    for method in (browser.post, browser.put, browser.head, browser.options):
        response = method(AUTHORIZE)
        assert response.status_code == 405
        assert response["Allow"] == "GET"
