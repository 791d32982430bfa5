"""The authorization endpoint's answers, as django-oauth-toolkit's view gave them before authorize.py.

Written against the toolkit's view first (these tests passed on it unchanged), then kept for the
code flow written out: every answer, its order of checks, what is audited and what the code's row
holds (what tokens.py reads). RFC 6749 §4.1.1-4.1.2.1, §3.1.2; RFC 7636 §4.3-4.4; RFC 9207;
OpenID Connect Core §3.1.2.1-3.1.2.6.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import get_refresh_token_model

from tests.federation.oidc.conftest import AUTHORIZE, REDIRECT, RP, register
from trousseau.accounts.models import Account, AccountState
from trousseau.accounts.sessions import AUTHENTICATED_AT_KEY, authenticated_at
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.federation.oidc.metadata import issuer
from trousseau.federation.oidc.models import Authorization
from trousseau.federation.oidc.services import SID_KEY

pytestmark = pytest.mark.django_db

CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
BASE = [
    ("response_type", "code"),
    ("client_id", "@"),  # the client's id, filled in
    ("redirect_uri", REDIRECT),
    ("scope", "openid profile"),
    ("state", "st"),
    ("nonce", "n"),
    ("code_challenge", CHALLENGE),
    ("code_challenge_method", "S256"),
]
CODE = "<code>"


def params(*, drop: tuple[str, ...] = (), extra: tuple[tuple[str, str], ...] = (), **replaced: str):
    kept = [(name, value) for name, value in BASE if name not in drop and name not in replaced]
    return [*kept, *replaced.items(), *extra]


def ask(browser: Client, rp: RP, pairs: list[tuple[str, str]]):
    filled = [(name, rp.client_id if value == "@" else value) for name, value in pairs]
    return browser.get(AUTHORIZE + "?" + urlencode(filled))


def sent_back(response, to: str = REDIRECT) -> list[tuple[str, str]]:
    """The parameters of a redirect to the client (the code replaced by CODE), after checking where it goes."""
    assert response.status_code == 302, response.content
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == to
    assert not location.fragment
    pairs = parse_qsl(location.query, keep_blank_values=True)
    return [(name, CODE if name == "code" else value) for name, value in pairs]


def refusals() -> list[str]:
    return [event.data["error"] for event in AuditEvent.objects.filter(tag=EventTag.OIDC_REFUSED)]


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


@pytest.fixture
def browser(account: Account) -> Client:
    client = Client()
    client.force_login(account, backend="trousseau.accounts.backends.AccountBackend")
    return client


ISS = ("iss", "http://127.0.0.1:8000")


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


def _error(error: str, description: str | None = None, state: str | None = "st") -> list[tuple[str, str]]:
    answer = [("error", error)]
    if description:
        answer.append(("error_description", description))
    if state:
        answer.append(("state", state))
    return [*answer, ISS]


S256_ONLY = 'Unsupported code_challenge_method; use "S256".'


@pytest.mark.parametrize(
    ("pairs", "answer"),
    [
        (params(scope="openid foo"), _error("invalid_scope")),
        (params(scope="openid children"), _error("invalid_scope")),  # not registered for children
        (params(scope="openid  profile"), _error("invalid_scope")),  # an empty scope between two spaces
        (params(scope=""), _error("invalid_scope")),
        (params(drop=("response_type",)), _error("invalid_request", "Missing response_type parameter.")),
        (params(response_type=""), _error("unsupported_response_type")),
        (params(response_type="foo"), _error("unsupported_response_type")),
        (params(response_type="token"), _error("unauthorized_client")),
        (params(response_type="id_token"), _error("unauthorized_client")),
        (params(response_type="id_token token"), _error("unauthorized_client")),
        (params(response_type="code id_token"), _error("unauthorized_client")),
        (params(response_type="code token"), _error("unauthorized_client")),
        (params(response_type="none"), _error("unauthorized_client")),
        (params(code_challenge_method="plain"), _error("invalid_request", S256_ONLY)),
        (params(drop=("code_challenge_method",)), _error("invalid_request", S256_ONLY)),
        (params(code_challenge_method="foo"), _error("invalid_request", "Transform algorithm not supported.")),
        (params(code_challenge_method=""), _error("invalid_request", "Transform algorithm not supported.")),
        (
            params(prompt="none login"),
            _error("invalid_request", "Prompt none is mutually exclusive with other values."),
        ),
        (
            params(resource="nope"),
            _error(
                "invalid_target",
                "The resource 'nope' is not a valid resource indicator: it must be an absolute URI with a scheme and host.",
            ),
        ),
        (params(drop=("state",), scope="openid foo"), _error("invalid_scope", state=None)),
        # The order of the checks: response type, then PKCE, then scope, then prompt.
        (params(response_type="token", scope="foo", code_challenge_method="foo"), _error("unauthorized_client")),
        (
            params(scope="foo", code_challenge_method="foo"),
            _error("invalid_request", "Transform algorithm not supported."),
        ),
        (params(scope="openid foo", prompt="none login"), _error("invalid_scope")),
        (params(scope="openid foo", code_challenge_method="plain"), _error("invalid_scope")),
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
    required = _error("invalid_request", "Code challenge required.")
    assert sent_back(ask(browser, public, params(drop=("code_challenge", "code_challenge_method")))) == required
    assert sent_back(ask(browser, public, params(drop=("code_challenge",)))) == required
    assert sent_back(ask(browser, public, params(code_challenge_method="plain"))) == _error(
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
    assert sent_back(ask(browser, rp, params(prompt="login", scope="openid foo"))) == _error("invalid_scope")


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
    assert sent_back(ask(Client(), rp, params(prompt="none", scope="openid foo"))) == _error("invalid_scope")
    assert sent_back(ask(Client(), rp, params(prompt="none login"))) == _error(
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
