"""Clients are registered by the operator, with exact URIs; the secret is shown once and kept as a digest."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from oauth2_provider.models import Application

from tests.federation.oidc.conftest import RP, authorize, code_for, pkce, query_of, redeem
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.federation.oidc.models import Authorization, ClientProfile
from trousseau.federation.oidc.services import InvalidClient, register_client

pytestmark = pytest.mark.django_db


def add(*args: str) -> dict[str, str]:
    out = StringIO()
    call_command("oidc_client_add", *args, stdout=out)
    return dict(line.split(": ", 1) for line in out.getvalue().splitlines() if ": " in line)


def test_command_prints_the_secret_once_and_stores_a_digest():
    printed = add(
        "--name", "Pronote démo",
        "--redirect-uri", "https://pronote.example/cb",
        "--post-logout-uri", "https://pronote.example/bye",
        "--backchannel-uri", "https://pronote.example/backchannel",
        "--children",
    )  # fmt: skip
    application = Application.objects.get(client_id=printed["client_id"])
    assert application.client_secret.startswith("sha256$")
    assert printed["client_secret"] not in application.client_secret
    assert application.skip_authorization
    assert application.algorithm == "RS256"
    assert application.authorization_grant_type == "authorization-code"
    assert application.redirect_uris == "https://pronote.example/cb"
    profile = ClientProfile.objects.get(application=application)
    assert profile.release_children
    assert profile.backchannel_logout_uri == "https://pronote.example/backchannel"
    assert profile.backchannel_logout_session_required
    assert AuditEvent.objects.filter(tag=EventTag.OIDC_CLIENT_REGISTERED).exists()


def test_public_client_has_no_secret():
    printed = add("--name", "App", "--redirect-uri", "https://app.example/cb", "--public")
    assert "client_secret" not in printed
    assert Application.objects.get(client_id=printed["client_id"]).client_type == "public"


@pytest.mark.parametrize(
    "uri",
    [
        "http://pronote.example/cb",
        "https://pronote.example/cb#x",
        "https://user@pronote.example/cb",
        "https://*.pronote.example/cb",
        "javascript:alert(1)",
        "/cb",
    ],
)
def test_bad_uris_are_refused(uri: str):
    with pytest.raises(CommandError):
        add("--name", "Bad", "--redirect-uri", uri)
    with pytest.raises(CommandError):
        add("--name", "Bad", "--redirect-uri", "https://ok.example/cb", "--backchannel-uri", uri)
    assert not Application.objects.exists()


def test_fixed_id_and_update_for_demos():
    add(
        "--name",
        "ENT",
        "--redirect-uri",
        "http://127.0.0.1:8100/cb",
        "--client-id",
        "ent-demo",
        "--client-secret",
        "s3cret",
    )
    with pytest.raises(CommandError, match="exists"):
        add("--name", "ENT", "--redirect-uri", "http://127.0.0.1:8100/cb", "--client-id", "ent-demo")
    add("--name", "ENT 2", "--redirect-uri", "http://127.0.0.1:8100/cb2", "--client-id", "ent-demo", "--update")
    application = Application.objects.get(client_id="ent-demo")
    assert application.name == "ENT 2"
    assert application.redirect_uris == "http://127.0.0.1:8100/cb2"
    with pytest.raises(InvalidClient):
        register_client(name="x", redirect_uris=["https://x.example/cb"], update=True)
    created = add("--name", "New", "--redirect-uri", "https://new.example/cb", "--client-id", "new", "--update")
    assert created["client_id"] == "new"
    assert "client_secret" in created


def test_a_public_loopback_client_may_change_port_but_nothing_else(browser):
    rp = RP(register_client(name="Native", redirect_uris=["http://127.0.0.1:8765/cb"], public=True))
    verifier, challenge = pkce()
    rp.redirect_uri = "http://127.0.0.1:9999/cb"
    assert redeem(rp, code_for(browser, rp, challenge), verifier).status_code == 200
    for uri in ("http://127.0.0.1:8765/cb/", "http://127.0.0.1:8765/other", "http://localhost:8765/cb"):
        rp.redirect_uri = uri
        response = authorize(browser, rp, challenge=challenge)
        assert response.status_code == 400, uri
        assert "code" not in query_of(response.get("Location", ""))


def test_a_confidential_loopback_client_may_not_change_port(browser):
    rp = RP(register_client(name="Serveur local", redirect_uris=["http://127.0.0.1:8765/cb"]))
    rp.redirect_uri = "http://127.0.0.1:9999/cb"
    response = authorize(browser, rp, challenge=pkce()[1])
    assert response.status_code == 400
    assert "Location" not in response
    rp.redirect_uri = "http://127.0.0.1:8765/cb"
    assert "code" in query_of(authorize(browser, rp, challenge=pkce()[1])["Location"])


def test_the_release_policy_is_the_minimum_unless_asked_and_printed():
    printed = add("--name", "Téléservices", "--redirect-uri", "https://ts.example/cb")
    assert printed["release"] == "identity"
    profile = ClientProfile.objects.get(application__client_id=printed["client_id"])
    assert (profile.release_children, profile.release_join) == (False, False)
    printed = add("--name", "ENT", "--redirect-uri", "https://ent.example/cb", "--children", "--join")
    assert printed["release"] == "identity,children,join"
    profile = ClientProfile.objects.get(application__client_id=printed["client_id"])
    assert (profile.release_children, profile.release_join) == (True, True)


def test_the_old_ine_flag_still_registers_for_join_vectors():
    # Operators' scripts from before issue #18 say `--ine`: a hidden alias of `--join`.
    printed = add("--name", "ENT", "--redirect-uri", "https://ent.example/cb", "--ine")
    assert printed["release"] == "identity,join"
    assert ClientProfile.objects.get(application__client_id=printed["client_id"]).release_join


def test_cleanup_forgets_authorizations_older_than_a_session(browser, settings):
    rp = RP(register_client(name="Old", redirect_uris=["https://old.example/cb"]))
    rp.redirect_uri = "https://old.example/cb"
    code_for(browser, rp, pkce()[1])
    code_for(browser, rp, pkce()[1])
    Authorization.objects.filter(pk=Authorization.objects.first().pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE + 1)
    )
    out = StringIO()
    call_command("oidc_cleanup", stdout=out)
    assert "1 old authorization(s) deleted." in out.getvalue()
    assert Authorization.objects.count() == 1
