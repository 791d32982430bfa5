"""A logged-in browser's requests: the code and its row, and the refusals sent back or shown on the error page."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import get_refresh_token_model

from tests.federation.oidc.authorize_characterisation.conftest import (
    CHALLENGE,
    CODE,
    ISS,
    ask,
    error_params,
    params,
    refusals,
    sent_back,
)
from tests.federation.oidc.conftest import AUTHORIZE, REDIRECT, RP, register
from trousseau.accounts.models import Account
from trousseau.accounts.sessions import authenticated_at
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.federation.oidc.metadata import issuer
from trousseau.federation.oidc.models import Authorization
from trousseau.federation.oidc.services import SID_KEY

pytestmark = pytest.mark.django_db


def test_the_issuer_is_the_one_these_answers_name():
    assert issuer() == ISS[1]


# --- A code ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pairs", "answer", "row"),
    [
        (params(), [("code", CODE), ("state", "st"), ISS], {}),
        (params(drop=("state",)), [("code", CODE), ISS], {}),
        (params(state=""), [("code", CODE), ISS], {}),
        (params(drop=("nonce",)), [("code", CODE), ("state", "st"), ISS], {"nonce": ""}),
        (params(drop=("redirect_uri",)), [("code", CODE), ("state", "st"), ISS], {}),  # the one registered
        (params(drop=("scope",)), [("code", CODE), ("state", "st"), ISS], {"scope": "openid"}),  # the default
        (params(scope="profile"), [("code", CODE), ("state", "st"), ISS], {"scope": "profile"}),
        (
            params(drop=("code_challenge", "code_challenge_method")),
            [("code", CODE), ("state", "st"), ISS],
            {"code_challenge": ""},
        ),
        (params(drop=("code_challenge",)), [("code", CODE), ("state", "st"), ISS], {"code_challenge": ""}),
        (params(code_challenge=""), [("code", CODE), ("state", "st"), ISS], {"code_challenge": ""}),
        (params(code_challenge="abc"), [("code", CODE), ("state", "st"), ISS], {"code_challenge": "abc"}),
        (params(extra=(("nonce", "n2"),)), [("code", CODE), ("state", "st"), ISS], {"nonce": "n2"}),  # the last
        (
            params(extra=(("code_challenge", "x" * 43),)),
            [("code", CODE), ("state", "st"), ISS],
            {"code_challenge": "x" * 43},
        ),
        (params(prompt="none"), [("code", CODE), ("state", "st"), ISS], {}),
        (params(prompt="consent"), [("code", CODE), ("state", "st"), ISS], {}),
        (params(prompt="select_account"), [("code", CODE), ("state", "st"), ISS], {}),
        (params(prompt="none", scope="profile"), [("code", CODE), ("state", "st"), ISS], {"scope": "profile"}),
        (params(max_age="600"), [("code", CODE), ("state", "st"), ISS], {}),
        (params(max_age="abc"), [("code", CODE), ("state", "st"), ISS], {}),  # not a number: no limit
        (params(request="eyJ.x.y"), [("code", CODE), ("state", "st"), ISS], {}),  # request objects: ignored
        (params(request_uri="https://x.example/r"), [("code", CODE), ("state", "st"), ISS], {}),
        (params(id_token_hint="anything"), [("code", CODE), ("state", "st"), ISS], {}),  # not checked
        (params(login_hint="x", ui_locales="fr", display="page"), [("code", CODE), ("state", "st"), ISS], {}),
        (params(state="a b&c=d/é"), [("code", CODE), ("state", "a b&c=d/é"), ISS], {}),
    ],
)
def test_a_code_is_sent_back_and_its_row_holds_what_the_token_request_reads(  # noqa: PLR0913, PLR0917 - fixtures and a case
    browser: Client, rp: RP, account: Account, pairs, answer, row
):
    before = timezone.now()
    assert sent_back(ask(browser, rp, pairs)) == answer
    stored = Authorization.objects.get()
    session = browser.session
    expected = {
        "redirect_uri": REDIRECT,
        "scope": "openid profile",
        "nonce": "n",
        "code_challenge": CHALLENGE,
        **row,
    }
    assert {name: getattr(stored, name) for name in expected} == expected
    assert stored.application_id == rp.registration.application.pk
    assert stored.account_id == account.pk
    assert stored.session_key == session.session_key
    assert stored.sid == session[SID_KEY]
    assert stored.authenticated_at == authenticated_at(session)
    assert stored.created_at >= before
    assert (stored.redeemed_at, stored.replayed_at) == (None, None)
    # The family its tokens will belong to is drawn with the code (the claim then writes no index entry);
    # nothing belongs to it yet.
    assert stored.token_family is not None
    assert not get_refresh_token_model().objects.filter(token_family=stored.token_family).exists()
    issued = AuditEvent.objects.get(tag=EventTag.OIDC_CODE_ISSUED)
    assert (issued.account_id, issued.ip_address, issued.data) == (account.pk, "127.0.0.1", {"client": rp.client_id})
    assert not refusals()


def test_the_code_is_new_each_time_and_its_row_keeps_its_digest_only(browser: Client, rp: RP):
    codes = {dict(sent_back(ask(browser, rp, params())))["code"] for _ in range(2)}
    raw = [parse_qsl(urlsplit(ask(browser, rp, params())["Location"]).query)[0][1] for _ in range(2)]
    assert len(codes) == 1  # (replaced by CODE)
    assert raw[0] != raw[1]
    assert len(raw[0]) >= 22  # at least 128 bits of a URL-safe alphabet
    stored = set(Authorization.objects.values_list("code_hash", flat=True))
    assert not stored & set(raw)


def test_the_answer_keeps_the_registered_uris_query_and_encodes_as_before(browser: Client, account: Account):
    rp = register(redirect_uris=[REDIRECT + "?x=1"])
    rp.redirect_uri = REDIRECT + "?x=1"
    response = ask(browser, rp, params(redirect_uri=REDIRECT + "?x=1", state="a b"))
    assert sent_back(response) == [("x", "1"), ("code", CODE), ("state", "a b"), ISS]
    assert response["Location"].endswith("&state=a+b&iss=http%3A%2F%2F127.0.0.1%3A8000")
    assert Authorization.objects.get().redirect_uri == REDIRECT + "?x=1"
    refused = ask(browser, rp, params(redirect_uri=REDIRECT + "?x=1", scope="openid foo", state="a b"))
    assert refused["Location"] == REDIRECT + "?x=1&error=invalid_scope&state=a+b&iss=http%3A%2F%2F127.0.0.1%3A8000"


def test_a_session_gets_its_sid_once_and_forgets_the_answered_login(browser: Client, rp: RP):
    sent_back(ask(browser, rp, params()))
    sid = browser.session[SID_KEY]
    sent_back(ask(browser, rp, params()))
    assert browser.session[SID_KEY] == sid
    assert set(Authorization.objects.values_list("sid", flat=True)) == {sid}


# --- Refusals sent back to the client -------------------------------------------------------------


S256_ONLY = 'Unsupported code_challenge_method; use "S256".'


@pytest.mark.parametrize(
    ("pairs", "answer"),
    [
        (params(scope="openid foo"), error_params("invalid_scope")),
        (params(scope="openid children"), error_params("invalid_scope")),  # not registered for children
        (params(scope="openid  profile"), error_params("invalid_scope")),  # an empty scope between two spaces
        (params(scope=""), error_params("invalid_scope")),
        (params(drop=("response_type",)), error_params("invalid_request", "Missing response_type parameter.")),
        (params(response_type=""), error_params("unsupported_response_type")),
        (params(response_type="foo"), error_params("unsupported_response_type")),
        (params(response_type="token"), error_params("unauthorized_client")),
        (params(response_type="id_token"), error_params("unauthorized_client")),
        (params(response_type="id_token token"), error_params("unauthorized_client")),
        (params(response_type="code id_token"), error_params("unauthorized_client")),
        (params(response_type="code token"), error_params("unauthorized_client")),
        (params(response_type="none"), error_params("unauthorized_client")),
        (params(code_challenge_method="plain"), error_params("invalid_request", S256_ONLY)),
        (params(drop=("code_challenge_method",)), error_params("invalid_request", S256_ONLY)),
        (params(code_challenge_method="foo"), error_params("invalid_request", "Transform algorithm not supported.")),
        (params(code_challenge_method=""), error_params("invalid_request", "Transform algorithm not supported.")),
        (
            params(prompt="none login"),
            error_params("invalid_request", "Prompt none is mutually exclusive with other values."),
        ),
        (
            params(resource="nope"),
            error_params(
                "invalid_target",
                "The resource 'nope' is not a valid resource indicator: it must be an absolute URI with a scheme and host.",
            ),
        ),
        (params(drop=("state",), scope="openid foo"), error_params("invalid_scope", state=None)),
        # The order of the checks: response type, then PKCE, then scope, then prompt.
        (params(response_type="token", scope="foo", code_challenge_method="foo"), error_params("unauthorized_client")),
        (
            params(scope="foo", code_challenge_method="foo"),
            error_params("invalid_request", "Transform algorithm not supported."),
        ),
        (params(scope="openid foo", prompt="none login"), error_params("invalid_scope")),
        (params(scope="openid foo", code_challenge_method="plain"), error_params("invalid_scope")),
    ],
)
def test_refusals_are_sent_back_with_state_and_iss_and_audited(browser: Client, rp: RP, pairs, answer):
    response = ask(browser, rp, pairs)
    assert sent_back(response) == answer
    assert refusals() == [answer[0][1]]
    assert not Authorization.objects.exists()
    assert not AuditEvent.objects.filter(tag=EventTag.OIDC_CODE_ISSUED).exists()


def test_a_public_client_must_send_a_challenge(browser: Client):
    public = register(public=True)
    required = error_params("invalid_request", "Code challenge required.")
    assert sent_back(ask(browser, public, params(drop=("code_challenge", "code_challenge_method")))) == required
    assert sent_back(ask(browser, public, params(drop=("code_challenge",)))) == required
    assert sent_back(ask(browser, public, params(code_challenge_method="plain"))) == error_params(
        "invalid_request", S256_ONLY
    )
    assert refusals() == ["invalid_request"] * 3
    # An empty challenge is a challenge sent: the code is issued, and its token request refused (tokens.py).
    assert sent_back(ask(browser, public, params(code_challenge=""))) == [("code", CODE), ("state", "st"), ISS]
    assert Authorization.objects.get().code_challenge == ""


def test_a_session_without_a_sid_gets_one_even_when_refused_for_a_plain_challenge(browser: Client, rp: RP):
    session = browser.session
    del session[SID_KEY]  # drawn at login since; a session opened before keeps getting it here
    session.save()
    ask(browser, rp, params(code_challenge_method="plain"))
    assert SID_KEY in browser.session  # as before: the sid was drawn before the method was checked
    sent_back(ask(browser, rp, params()))
    assert Authorization.objects.get().sid == browser.session[SID_KEY]


# --- Refusals shown, never sent back (§4.1.2.1: no redirection URI to trust) ------------------------


@pytest.mark.parametrize(
    "pairs",
    [
        params(client_id="nobody"),
        params(drop=("client_id",)),
        params(client_id=""),
        params(redirect_uri="https://evil.example/cb"),
        params(redirect_uri=REDIRECT + "/"),
        params(redirect_uri=""),
        params(redirect_uri="/cb"),
        params(extra=(("client_id", "@"),)),
        params(extra=(("state", "x"),)),
        params(extra=(("scope", "openid"),)),
        params(extra=(("response_type", "code"),)),
        params(extra=(("redirect_uri", REDIRECT),)),
        # Fatal before anything else: the client's refusals come after.
        params(client_id="nobody", scope="foo", response_type="token"),
        params(redirect_uri="https://evil.example/cb", scope="foo", prompt="none login"),
    ],
)
def test_an_unknown_client_or_redirect_uri_gets_the_error_page(browser: Client, rp: RP, pairs):
    response = ask(browser, rp, pairs)
    assert response.status_code == 400
    text = response.content.decode()
    assert "Connexion au service impossible" in text
    assert "Code de l&#x27;erreur : invalid_request" in text or "Code de l'erreur : invalid_request" in text
    assert "Location" not in response.headers
    assert refusals() == ["invalid_request"]
    assert not Authorization.objects.exists()


def test_the_page_is_audited_with_the_client_id_as_sent(browser: Client, rp: RP):
    ask(browser, rp, params(client_id="nobody"))
    event = AuditEvent.objects.get(tag=EventTag.OIDC_REFUSED)
    assert event.data == {"endpoint": "authorize", "error": "invalid_request", "client": "nobody"}
    assert event.ip_address == "127.0.0.1"
    assert event.account_id is not None


def test_a_query_that_cannot_be_parsed_gets_the_error_page(browser: Client, rp: RP):
    query = urlencode([(name, rp.client_id if value == "@" else value) for name, value in params()])
    response = browser.get(f"{AUTHORIZE}?{query}&broken")
    assert response.status_code == 400
    assert refusals() == ["invalid_request"]


def test_without_a_single_registered_uri_redirect_uri_is_required(browser: Client):
    two = register(redirect_uris=[REDIRECT, "https://rp.example/other"])
    assert ask(browser, two, params(drop=("redirect_uri",))).status_code == 400
    assert sent_back(ask(browser, two, params(redirect_uri="https://rp.example/other")), to="https://rp.example/other")
