"""The session store writes a session once per request when its data did not change since."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from trousseau.core.session_store import SessionStore

pytestmark = pytest.mark.django_db


def _writes(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]


def test_a_second_save_of_the_same_data_writes_nothing_and_a_change_is_written():
    store = SessionStore()
    store["step"] = "one"
    store.save()
    with CaptureQueriesContext(connection) as captured:
        store.save()
    assert _writes(captured) == []
    store["step"] = "two"
    with CaptureQueriesContext(connection) as captured:
        store.save()
    assert len(_writes(captured)) == 1
    assert SessionStore(session_key=store.session_key).load() == {"step": "two"}


def test_a_new_key_is_always_written():
    store = SessionStore()
    store["step"] = "one"
    store.save()
    old = store.session_key
    store.cycle_key()
    store.save()
    assert store.session_key != old
    assert Session.objects.filter(session_key=store.session_key).exists()
    assert not Session.objects.filter(session_key=old).exists()


def test_another_request_saving_the_same_data_writes_it():
    """Each request has its own store object: what an earlier one wrote is not taken for granted."""
    first = SessionStore()
    first["step"] = "one"
    first.save()
    second = SessionStore(session_key=first.session_key)
    second["step"] = "one"
    with CaptureQueriesContext(connection) as captured:
        second.save()
    assert len(_writes(captured)) == 1


def test_a_save_rolled_back_with_its_transaction_is_made_again():
    """A change saved inside a transaction that rolls back is not taken as written by the later save."""
    store = SessionStore()
    store["step"] = "one"
    store.save()
    store["step"] = "two"

    class Abandoned(Exception):
        pass

    def save_then_fail() -> None:
        with transaction.atomic():
            store.save()
            raise Abandoned

    with pytest.raises(Abandoned):
        save_then_fail()
    assert SessionStore(session_key=store.session_key).load() == {"step": "one"}
    store.save()  # the session middleware's save at the end of the response
    assert SessionStore(session_key=store.session_key).load() == {"step": "two"}


def test_a_new_key_is_written_once_with_its_data_by_the_next_save():
    store = SessionStore()
    store["step"] = "one"
    store.save()
    old = store.session_key
    with CaptureQueriesContext(connection) as captured:
        store.cycle_key()
    statements = [q["sql"] for q in captured.captured_queries]
    assert [s.split()[0] for s in statements] == ["DELETE"], statements  # the old row, not looked up first
    assert not Session.objects.filter(session_key=store.session_key).exists()
    with CaptureQueriesContext(connection) as captured:
        store.save()
    statements = [q["sql"] for q in captured.captured_queries]
    assert [s.split()[0] for s in statements] == ["INSERT"], statements
    assert SessionStore(session_key=store.session_key).load() == {"step": "one"}
    assert not Session.objects.filter(session_key=old).exists()


def test_a_new_key_flushed_before_any_save_leaves_no_row():
    store = SessionStore()
    store["step"] = "one"
    store.cycle_key()
    drawn = store.session_key
    with CaptureQueriesContext(connection) as captured:
        store.flush()
    assert captured.captured_queries == []  # neither key has a row
    assert store.session_key is None
    assert not Session.objects.filter(session_key=drawn).exists()
    store["step"] = "two"
    store.save()  # a later save creates a session as Django's store does
    assert SessionStore(session_key=store.session_key).load() == {"step": "two"}


def test_keys_drawn_twice_before_a_save_leave_one_row():
    store = SessionStore()
    store["step"] = "one"
    store.cycle_key()
    first = store.session_key
    store.cycle_key()
    store.save()
    assert store.session_key != first
    assert list(Session.objects.values_list("session_key", flat=True)) == [store.session_key]


def test_a_new_key_never_saved_leaves_the_old_key_dead():
    """A logout that rotates the key and empties the session: the middleware saves nothing, the old key
    (that of the logged-in session) must not open it again."""
    store = SessionStore()
    store["_auth_user_id"] = "1"
    store.save()
    old = store.session_key
    store.cycle_key()
    store.clear()  # empty: Django's middleware deletes the cookie and saves nothing
    assert not Session.objects.filter(session_key=old).exists()


def test_a_deferred_deletion_goes_with_the_callers_insert_or_by_itself():
    store = SessionStore()
    store["step"] = "one"
    store.save()
    old = store.session_key
    store.defer_stale_deletion()
    with CaptureQueriesContext(connection) as captured:
        store.cycle_key()
    assert captured.captured_queries == []
    assert store.stale_key() == old
    row = store.unsaved_row()
    assert row is not None
    assert row.session_key == store.session_key
    store.delete_stale()  # a caller that inserts nothing after all
    assert not Session.objects.filter(session_key=old).exists()
    assert store.stale_key() is None
    store.cycle_key()  # the deferral was for one key change only
    assert store.stale_key() is None


def test_a_change_is_one_statement_and_reads_back_as_django_reads_it():
    """The store's own SQL writes what Django's ORM-based store reads (same table, encoding, expiry)."""
    from django.contrib.sessions.backends.db import SessionStore as DjangoStore

    store = SessionStore()
    store["step"] = "one"
    store.save()
    store["step"] = "two"
    with CaptureQueriesContext(connection) as captured:
        store.save()
    assert [q["sql"].split()[0] for q in captured.captured_queries] == ["UPDATE"]  # no savepoint around it
    assert DjangoStore(session_key=store.session_key).load() == {"step": "two"}
    lag = store.get_expiry_date() - Session.objects.get(session_key=store.session_key).expire_date
    assert 0 <= lag.total_seconds() < 5  # the session's age from the save, as Django's store writes it


def test_an_expired_or_unknown_row_loads_as_an_empty_session_without_a_key():
    from datetime import timedelta

    from django.utils import timezone

    store = SessionStore()
    store["step"] = "one"
    store.save()
    Session.objects.filter(session_key=store.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    expired = SessionStore(session_key=store.session_key)
    assert expired.load() == {}
    assert expired.session_key is None
    assert SessionStore(session_key="x" * 32).load() == {}


def test_saving_a_session_whose_row_is_gone_is_djangos_update_error():
    """Logged out in another tab meanwhile: Django's middleware turns this into SessionInterrupted (400),
    and the row is not brought back to life."""
    from django.contrib.sessions.backends.base import UpdateError

    store = SessionStore()
    store["step"] = "one"
    store.save()
    Session.objects.filter(session_key=store.session_key).delete()
    store["step"] = "two"
    with pytest.raises(UpdateError):
        store.save()
    assert not Session.objects.filter(session_key=store.session_key).exists()


def _carried_event(store: SessionStore, ids: list[int], service: str) -> None:
    from trousseau.audit.events import EventTag
    from trousseau.audit.services import audit_statement

    _, (sql, params) = audit_statement(EventTag.SAML_ASSERTION_ISSUED, service=service)
    store.write_with_save(sql, params, ids.append)


def test_a_write_carried_by_the_save_goes_in_the_sessions_update():
    from trousseau.audit.models import AuditEvent

    store = SessionStore()
    store["step"] = "one"
    store.save()
    ids: list[int] = []
    _carried_event(store, ids, service="a")
    _carried_event(store, ids, service="b")
    assert store.modified  # so that Django's middleware saves it, data unchanged or not
    with CaptureQueriesContext(connection) as captured:
        store.save()
    statements = [q["sql"] for q in captured.captured_queries]
    if connection.vendor == "postgresql":  # one statement: the events' INSERTs are CTEs of the UPDATE
        assert len(statements) == 1, statements
        assert statements[0].startswith("WITH")
    else:  # each event alone, then the session's UPDATE
        assert [s.split()[0] for s in statements] == ["INSERT", "INSERT", "UPDATE"], statements
    assert [AuditEvent.objects.get(pk=pk).data["service"] for pk in ids] == ["a", "b"]
    with CaptureQueriesContext(connection) as captured:
        store.save()  # carried once: the next save of the same data writes nothing
    assert _writes(captured) == []


def test_a_carried_write_goes_with_a_new_keys_insert_and_with_an_unchanged_session():
    from trousseau.audit.models import AuditEvent

    store = SessionStore()
    store["step"] = "one"
    ids: list[int] = []
    _carried_event(store, ids, service="new")
    store.save()  # the first row of a new key
    store.save()
    _carried_event(store, ids, service="unchanged")
    store.save()  # the data is the same: the session's row is written anyway, with the event
    assert [AuditEvent.objects.get(pk=pk).data["service"] for pk in ids] == ["new", "unchanged"]
    assert SessionStore(session_key=store.session_key).load() == {"step": "one"}


def test_a_carried_write_on_a_session_whose_row_is_gone_is_still_djangos_update_error():
    from django.contrib.sessions.backends.base import UpdateError

    store = SessionStore()
    store["step"] = "one"
    store.save()
    Session.objects.filter(session_key=store.session_key).delete()
    _carried_event(store, [], service="a")
    with pytest.raises(UpdateError):
        store.save()
    assert not Session.objects.filter(session_key=store.session_key).exists()
