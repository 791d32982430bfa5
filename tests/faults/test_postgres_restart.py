"""PostgreSQL restarted in the middle of journeys (security.md §7 checks 18 and 37, issue #7 "Faults").

Trousseau runs in a real gunicorn process on a PostgreSQL server of the test's own, which the test
stops and starts between two steps of a self-registration, and under a logged-in session. While the
database is down a page fails cleanly (an error page, no trace of the code); once it is back the
very next request works (connections are health-checked), the journey finishes as if nothing had
happened, exactly one account is activated, and the session is still open.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from django.db import connection

from bench.cluster import WebProcess, free_port
from tests import factories
from tests.faults.cluster import PrivatePostgres
from tests.faults.live import Browser, environment, manage, python, server

PHONE = "+33612345678"
SEED = f"""
from datetime import date
from tests import factories
from tests.accounts.helpers import active_pupil
child = factories.pupil(first_name="Zoé", birth_date=date(2012, 5, 6))
factories.guardian(children=[child], first_name="Sophie", last_name="Dupont", mobile="{PHONE}")
print(child.pk, active_pupil().identifier)
"""


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[PrivatePostgres, dict[str, str], WebProcess, str]]:
    # It brings its own PostgreSQL; once per `make test` is enough, in the PostgreSQL pass.
    if connection.vendor != "postgresql":
        pytest.skip("runs in the PostgreSQL pass of the suite")
    root = tmp_path_factory.mktemp("pg-restart")
    database = PrivatePostgres(free_port())
    database.start()
    port = free_port()
    env = environment(database.url, root, port)
    try:
        manage(env, "migrate", "-v0")
        seeded = python(env, SEED).split()
        web = server(env, port, root / "gunicorn.log")
        try:
            yield database, env, web, " ".join(seeded)
        finally:
            web.terminate()
    finally:
        database.remove()


def _sms_code(env: dict[str, str]) -> str:
    body = python(
        env,
        f"from trousseau.notifications.models import OutboxMessage as O; print(O.objects.filter(to='{PHONE}').first().body)",
    )
    found = re.search(r"\b(\d{6})\b", body)
    assert found is not None
    return found.group(1)


def _outage(database: PrivatePostgres, browser: Browser, page: str) -> None:
    """Stopped: the page fails cleanly, as a 5xx error page that shows nothing of the code."""
    database.stop()
    down = browser.get(page)
    assert down.status_code >= 500
    assert "Traceback" not in down.text
    assert "psycopg" not in down.text
    assert "OperationalError" not in down.text
    database.start()


def test_self_registration_survives_a_restart_between_two_steps(stack):
    database, env, web, seeded = stack
    child_pk = seeded.split()[0]
    browser = Browser(f"http://{web.address}")
    identity = {"last_name": "Dupont", "first_name": "Sophie", "country": "FR", "mobile": "06 12 34 56 78"}
    started = browser.post("/inscription/", identity, allow_redirects=False)
    assert started.status_code == 302, started.text[:500]
    step = started.headers["Location"]
    assert browser.post(step, {"code": _sms_code(env)}, allow_redirects=False).status_code == 302
    confirmed = browser.post(
        step, {f"legal_{child_pk}": "oui", f"birth_{child_pk}": "2012-05-06"}, allow_redirects=False
    )
    assert confirmed.status_code == 302

    # A restart between two requests: the worker's connection is dead and nothing has noticed yet.
    database.stop()
    database.start()

    page = browser.get(step)
    assert page.status_code == 200  # the health check replaced the dead connection before using it
    assert "Notez votre identifiant" in page.text
    password = {"password": factories.GOOD_PASSWORD, "password_confirm": factories.GOOD_PASSWORD}
    done = browser.post(step, password)
    assert "Votre compte a été activé avec succès" in done.text
    count = python(
        env,
        "from trousseau.accounts.models import Account as A; print(A.objects.filter(first_name='Sophie', state='active').count())",
    )
    assert count.strip() == "1"


def test_a_session_outlives_a_restart(stack):
    database, _, web, seeded = stack
    identifier = seeded.split()[1]
    browser = Browser(f"http://{web.address}")
    logged = browser.post(
        "/login", {"identifier": identifier, "password": factories.GOOD_PASSWORD}, allow_redirects=False
    )
    assert logged.status_code == 302
    assert browser.get("/compte/").status_code == 200

    _outage(database, browser, "/compte/")

    home = browser.get("/compte/", allow_redirects=False)
    assert home.status_code == 200  # sessions live in the database, which kept them


def test_under_load_failures_stay_inside_the_outage(stack):
    """security.md §7 check 37: logins run on while PostgreSQL stops for 10 s, then starts again.

    Only requests made while it is down may fail, and as plain 5xx pages; the service is whole again
    within seconds of the restart (no request fails in the last 5 s of the run), and a session opened
    before the outage is still open after it.
    """
    database, _, web, seeded = stack
    identifier = seeded.split()[1]
    base = f"http://{web.address}"
    before = Browser(base)
    assert before.post("/login", {"identifier": identifier, "password": factories.GOOD_PASSWORD}).ok
    results: list[tuple[float, int, bool]] = []  # (when, status, whether the page shows code internals)
    stop = threading.Event()

    def person() -> None:
        while not stop.is_set():
            browser = Browser(base)
            try:
                answer = browser.post(
                    "/login", {"identifier": identifier, "password": factories.GOOD_PASSWORD}, allow_redirects=False
                )
            except requests.RequestException:
                results.append((time.monotonic(), 0, False))
                continue
            leaked = any(word in answer.text for word in ("Traceback", "psycopg", "OperationalError"))
            results.append((time.monotonic(), answer.status_code, leaked))

    people = [threading.Thread(target=person) for _ in range(2)]
    for thread in people:
        thread.start()
    try:
        time.sleep(3)
        stopped_at = time.monotonic()
        database.stop()
        time.sleep(10)
        database.start()
        started_at = time.monotonic()
        time.sleep(10)
    finally:
        stop.set()
        for thread in people:
            thread.join(30)
    end = time.monotonic()

    failures = [(when, status) for when, status, _ in results if status != 302]  # 302: logged in
    assert failures, "the outage was felt: logins failed while the database was down"
    assert not [r for r in results if r[2]], "an error page showed code internals"
    assert all(status >= 500 for _, status in failures), failures  # nothing but clean server errors
    assert all(stopped_at <= when <= started_at + 5 for when, _ in failures), (stopped_at, started_at, failures)
    last = [status for when, status, _ in results if when > end - 5]
    assert last
    assert all(status == 302 for status in last)
    assert sum(1 for when, s, _ in results if when < stopped_at and s == 302) > 0
    assert before.get("/compte/", allow_redirects=False).status_code == 200
