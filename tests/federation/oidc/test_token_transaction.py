"""A token request is one transaction: the code's claim and the tokens commit together, in few statements."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken

from tests.federation.oidc.conftest import RP, code_for, pkce, redeem, userinfo, verify
from trousseau.federation.oidc import claim_sql, tokens
from trousseau.federation.oidc.models import Authorization
from trousseau.federation.oidc.token_rows import checksum


@pytest.mark.django_db(transaction=True)  # real commits, not the test's savepoints
def test_redeeming_a_code_commits_no_transaction_of_its_own_on_postgresql(browser, rp: RP):
    verifier, challenge = pkce()
    code = code_for(browser, rp, challenge)
    with CaptureQueriesContext(connection) as captured:
        response = redeem(rp, code, verifier)
    assert response.status_code == 200
    commits = [q["sql"] for q in captured.captured_queries if q["sql"].upper().startswith("COMMIT")]
    # PostgreSQL: the claim and the rows are one statement, atomic by itself: no COMMIT round trip.
    # SQLite: the three rows' INSERTs need their transaction.
    assert len(commits) == (0 if connection.vendor == "postgresql" else 1), commits
    assert AccessToken.objects.count() == 1
    assert Authorization.objects.get().redeemed_at is not None


@pytest.mark.django_db
def test_redeeming_a_code_reads_its_authorization_once(browser, rp: RP):
    # Before tokens.py: seven reads of the toolkit's grant (our checks, the toolkit's validate_code,
    # redirect URI, PKCE challenge and method, scopes, nonce, the RFC 8707 resource check).
    verifier, challenge = pkce()
    code = code_for(browser, rp, challenge, nonce="n-0S6_WzA2Mj")
    with CaptureQueriesContext(connection) as captured:
        response = redeem(rp, code, verifier)
    assert response.status_code == 200
    assert response.json()["id_token"]
    touching = [q["sql"] for q in captured.captured_queries if "oidc_authorization" in q["sql"]]
    if connection.vendor == "postgresql":  # the claim, the read and the token rows: one statement
        assert len(touching) == 1, touching
        assert "oauth2_provider_refreshtoken" in touching[0]
    else:  # an UPDATE and a SELECT, then the rows lock it (no read of its columns) while written
        assert len(touching) == 3, touching
        assert "replayed_at IS NULL" in touching[-1]
    assert not [q for q in captured.captured_queries if "oauth2_provider_grant" in q["sql"]]


@pytest.mark.django_db
def test_the_access_token_is_linked_to_the_id_token_issued_with_it(browser, rp: RP):
    verifier, challenge = pkce()
    issued = redeem(rp, code_for(browser, rp, challenge, nonce="n-1"), verifier).json()
    _, claims = verify(issued["id_token"])
    access = AccessToken.objects.select_related("id_token").get()
    assert access.id_token is not None
    assert str(access.id_token.jti) == claims["jti"]
    assert claims["nonce"] == "n-1"
    # Read back by its value: the userinfo answered with this token is the account's.
    assert userinfo(issued["access_token"]).json()["sub"] == claims["sub"]


@pytest.mark.django_db
def test_a_token_request_stays_within_its_statement_budget(browser, rp: RP):
    # 25 statements before the grant, account, client and ID token were read once each (2026-12-05), 13
    # after. tokens.py: the claim and the read of the authorization with its account (one statement on
    # PostgreSQL), the claims' read, the three token rows (one statement on PostgreSQL).
    verifier, challenge = pkce()
    first, code = code_for(browser, rp, challenge), code_for(browser, rp, challenge)
    assert redeem(rp, first, verifier).status_code == 200  # the client is read by now, and kept (clients.py)
    browser.cookies.clear()  # a client's back channel carries no browser session
    with CaptureQueriesContext(connection) as captured:
        response = redeem(rp, code, verifier)
    assert response.status_code == 200
    statements = [q["sql"] for q in captured.captured_queries]
    assert not [sql for sql in statements if "oauth2_provider_application" in sql or "oidc_clientprofile" in sql]
    # PostgreSQL: one statement, atomic by itself, no BEGIN and COMMIT around it (issue #21): the claim,
    # the claims' directory rows and the token rows. SQLite: the claim's UPDATE and SELECT, the claims'
    # read, then the rows' transaction (here the test's SAVEPOINT and RELEASE) with its lock and three
    # INSERTs.
    budget = 1 if connection.vendor == "postgresql" else 3 + 2 + 4
    assert len(statements) <= budget, "\n".join(statements)


@pytest.mark.django_db
def test_an_authorization_request_reads_its_client_once_per_process(browser, rp: RP):
    _, challenge = pkce()
    code_for(browser, rp, challenge)  # the process reads the client here, then keeps it (clients.py)
    with CaptureQueriesContext(connection) as captured:
        code_for(browser, rp, challenge)
    statements = [q["sql"] for q in captured.captured_queries]
    assert not [sql for sql in statements if "oidc_clientprofile" in sql]
    assert not [sql for sql in statements if "oauth2_provider_application" in sql]
    assert not [sql for sql in statements if "oauth2_provider_grant" in sql]  # one row per code: ours
    assert len([sql for sql in statements if 'INSERT INTO "oidc_authorization"' in sql]) == 1


# PostgreSQL only: elsewhere the rows are always written by a statement of their own (token_rows.store).
postgresql_only = pytest.mark.skipif("connection.vendor != 'postgresql'")


@postgresql_only
@pytest.mark.django_db
def test_the_statements_checks_only_spare_a_write_python_decides(browser, rp: RP, monkeypatch):
    # claim_sql.Expected mirrors tokens._check so that PostgreSQL writes the tokens with the claim. When
    # the two disagree, _check decides: a request the statement turned down is written separately...
    monkeypatch.setattr(
        tokens, "_expected", lambda *_: claim_sql.Expected(timezone.now(), "https://elsewhere.example/", None, False)
    )
    verifier, challenge = pkce()
    issued = redeem(rp, code_for(browser, rp, challenge), verifier)
    assert issued.status_code == 200
    assert userinfo(issued.json()["access_token"]).status_code == 200


@postgresql_only
@pytest.mark.django_db
def test_tokens_written_for_a_request_python_refuses_are_revoked(browser, rp: RP, monkeypatch):
    # ...and tokens the statement wrote for a request _check refuses do not stay live.
    def refuse(authorization, *args):
        raise tokens.TokenError("invalid_grant", reason="pkce", account=authorization.account)

    monkeypatch.setattr(tokens, "_check", refuse)
    verifier, challenge = pkce()
    response = redeem(rp, code_for(browser, rp, challenge), verifier)
    assert response.status_code == 400
    assert not AccessToken.objects.exists()
    assert not RefreshToken.objects.filter(revoked=None).exists()


@pytest.mark.django_db
def test_the_token_statement_is_planned_once_per_connection(browser, rp: RP):
    # Planning it cost PostgreSQL three times running it (issue #21): prepared, it is planned once.
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's prepared statements")
    for nonce in ("n-a", "n-b", "n-c"):
        verifier, challenge = pkce()
        assert redeem(rp, code_for(browser, rp, challenge, nonce=nonce), verifier).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), sum(generic_plans + custom_plans) FROM pg_prepared_statements WHERE statement LIKE %s",
            ['WITH c AS (UPDATE "oidc_authorization"%'],
        )
        assert cursor.fetchone() == (1, 3)  # one statement, run three times


@pytest.mark.django_db
def test_the_refresh_token_belongs_to_the_family_drawn_with_the_code(browser, rp: RP):
    # The family is drawn at the authorization endpoint, so that the claim leaves it as it is.
    verifier, challenge = pkce()
    code = code_for(browser, rp, challenge)
    drawn = Authorization.objects.get().token_family
    assert drawn is not None
    issued = redeem(rp, code, verifier).json()
    assert Authorization.objects.get().token_family == drawn
    assert RefreshToken.objects.get(token_checksum=checksum(issued["refresh_token"])).token_family == drawn


@pytest.mark.django_db
def test_a_code_drawn_without_a_family_gets_one_with_its_tokens(browser, rp: RP):
    # A code issued by a process of the version before (no family in its row) during an upgrade.
    verifier, challenge = pkce()
    code = code_for(browser, rp, challenge)
    Authorization.objects.update(token_family=None)
    issued = redeem(rp, code, verifier).json()
    family = Authorization.objects.get().token_family
    assert family is not None
    assert RefreshToken.objects.get(token_checksum=checksum(issued["refresh_token"])).token_family == family


def _updates_of_authorizations() -> tuple[int, int]:
    """PostgreSQL's counts of the authorizations' updated rows, and of those that were heap-only."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")  # this connection's counts, reported now
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = %s",
            [Authorization._meta.db_table],
        )
        updated, heap_only = cursor.fetchone()
    return updated, heap_only


@pytest.mark.django_db(transaction=True)  # the statistics count committed updates
def test_the_claim_of_a_code_writes_no_index_entry_on_postgresql(browser, rp: RP):
    if connection.vendor != "postgresql":
        pytest.skip("heap-only updates are PostgreSQL's")
    verifier, challenge = pkce()
    codes = [code_for(browser, rp, challenge) for _ in range(3)]
    updated_before, heap_only_before = _updates_of_authorizations()
    for code in codes:
        assert redeem(rp, code, verifier).status_code == 200
    updated, heap_only = _updates_of_authorizations()
    assert updated - updated_before == len(codes)
    # No indexed column changed, and the page had room (the table's fillfactor): no index entry written.
    assert heap_only - heap_only_before == len(codes)
