"""The SSO login form's right password writes its session once: the flow's next step goes in with the login."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.federation.saml.helpers import credentials, guardian, login_page

pytestmark = pytest.mark.django_db
SSO_REDIRECT = "/idp/profile/SAML2/Redirect/SSO"
BOOKKEEPING = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")


def test_the_login_post_writes_the_session_once_with_the_flows_next_step(client, pysp, registered):
    account = guardian()
    _, url = pysp.redirect_request(relay_state="ent-state")
    execution, token = login_page(client, url)
    with CaptureQueriesContext(connection) as captured:
        logged = client.post(execution, {"csrf_token": token, **credentials(account)})
    assert logged["Location"] == f"{SSO_REDIRECT}?execution=e1s3"
    statements = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(BOOKKEEPING)]
    session_writes = [s for s in statements if "django_session" in s and not s.startswith("SELECT")]
    if connection.vendor == "postgresql":
        # The session read, the attempt's count, the account, then one statement for everything else.
        assert len(statements) == 4, statements
        assert len(session_writes) == 1, session_writes
    assert not [s for s in session_writes if s.startswith("UPDATE")], session_writes
    # The step after the password is open: its page shows, it is not sent back to the form.
    assert client.get(logged["Location"]).status_code == 200


def test_an_answer_from_the_session_writes_its_event_with_the_sessions_row(client, pysp, registered):
    from trousseau.audit.events import EventTag
    from trousseau.audit.models import AuditEvent

    account = guardian()
    _, url = pysp.redirect_request(relay_state="ent-state")
    execution, token = login_page(client, url)
    logged = client.post(execution, {"csrf_token": token, **credentials(account)})
    assert client.post(logged["Location"], {"csrf_token": token, "_eventId_proceed": ""}).status_code == 200
    _, again = pysp.redirect_request(relay_state="second-service")
    with CaptureQueriesContext(connection) as captured:
        answered = client.get(again)
    assert answered.status_code == 200
    assert b"SAMLResponse" in answered.content
    statements = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(BOOKKEEPING)]
    if connection.vendor == "postgresql":
        # The session read with its account, the request's ID against replay, the claims' read, then
        # the session's UPDATE (this service recorded for the logout) carrying the audit event.
        assert len(statements) == 4, statements
        assert statements[-1].startswith("WITH")
        assert "accounts_auditevent" in statements[-1]
    issued = AuditEvent.objects.filter(tag=EventTag.SAML_ASSERTION_ISSUED, account=account).order_by("pk")
    assert [event.data["service"] for event in issued] == [pysp.entity_id] * 2


def test_the_login_page_writes_no_session_the_step_before_wrote_what_it_keeps(client, pysp, registered):
    from trousseau.core import continuation

    _, url = pysp.redirect_request(relay_state="ent-state")
    read_step = client.get(url)["Location"]
    login_step = client.post(read_step, {"_eventId_proceed": ""})["Location"]
    with CaptureQueriesContext(connection) as captured:
        page = client.get(login_step)
    assert page.status_code == 200
    writes = [q["sql"] for q in captured.captured_queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []
    # The way back after a detour (lost password, …) is this login page, as the mire keeps it.
    kept = continuation.current(client.session)
    assert kept is not None
    assert kept.next_url == login_step
