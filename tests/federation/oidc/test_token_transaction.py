"""A token request is one transaction: the code's claim, the tokens and the grant's deletion commit together."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from oauth2_provider.models import AccessToken, Grant

from tests.federation.oidc.conftest import RP, code_for, pkce, redeem
from trousseau.federation.oidc.models import Authorization


@pytest.mark.django_db(transaction=True)  # real commits, not the test's savepoints
def test_redeeming_a_code_commits_once(browser, rp: RP):
    verifier, challenge = pkce()
    code = code_for(browser, rp, challenge)
    with CaptureQueriesContext(connection) as captured:
        response = redeem(rp, code, verifier)
    assert response.status_code == 200
    commits = [q["sql"] for q in captured.captured_queries if q["sql"].upper().startswith("COMMIT")]
    assert len(commits) == 1, commits
    assert AccessToken.objects.count() == 1
    assert not Grant.objects.exists()
    assert Authorization.objects.get().redeemed_at is not None


@pytest.mark.django_db
def test_redeeming_a_code_reads_its_grant_at_most_three_times(browser, rp: RP):
    # Before: seven reads (our checks, the toolkit's validate_code, redirect URI, PKCE challenge and
    # method, scopes, nonce); the toolkit's own validate_code and resource check keep theirs.
    verifier, challenge = pkce()
    code = code_for(browser, rp, challenge, nonce="n-0S6_WzA2Mj")
    with CaptureQueriesContext(connection) as captured:
        response = redeem(rp, code, verifier)
    assert response.status_code == 200
    assert response.json()["id_token"]
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith('SELECT "oauth2_provider_grant"')]
    assert len(reads) <= 3, reads
