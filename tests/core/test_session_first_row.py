"""A first session (no key yet) is written by one INSERT with its data: its key is not looked up."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from trousseau.core.session_store import SessionStore

pytestmark = pytest.mark.django_db


def test_a_first_session_is_inserted_with_its_data_by_one_statement():
    """No lookup of the drawn key and no transaction around the INSERT (Django's store makes both)."""
    store = SessionStore()
    store["step"] = "one"
    with CaptureQueriesContext(connection) as captured:
        store.save()
    assert [q["sql"].split()[0] for q in captured.captured_queries] == ["INSERT"]
    assert SessionStore(session_key=store.session_key).load() == {"step": "one"}
    with CaptureQueriesContext(connection) as captured:
        store.save()  # the same data: nothing more
    assert captured.captured_queries == []
