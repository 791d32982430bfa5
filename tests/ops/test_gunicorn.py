"""gunicorn on deploy/gunicorn.conf.py serves the mire and the probes, logs JSON, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
from pathlib import Path

from tests.ops.serving import gunicorn, production_env

HTTPS = {"X-Forwarded-Proto": "https"}  # as the TLS-terminating proxy sends it; 127.0.0.1 is a trusted proxy


def _json_lines(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


def test_the_mire_and_the_probes_answer_and_sigterm_ends_gunicorn_cleanly(site: Path):
    with gunicorn(production_env(site)) as server:
        mire = server.get("/login", headers={**HTTPS, "X-Request-ID": "lb-0123-abcd"})
        health = server.get("/healthz")
        plain_http = server.get("/login")
        status = server.stop()
    assert mire.status_code == 200
    assert "Se connecter" in mire.text
    assert mire.cookies.keys() == ["__Host-csrftoken"]  # Secure cookies: the forwarded scheme was believed
    assert mire.headers["X-Request-ID"] == "lb-0123-abcd"
    assert health.status_code == 200
    assert health.json() == {"status": "alive"}
    assert plain_http.status_code == 301
    assert plain_http.headers["Location"] == server.url.replace("http:", "https:") + "/login"
    assert status == 0
    lines = _json_lines(server.log)
    access = [line for line in lines if line["logger"] == "gunicorn.access" and line["request_id"] == "lb-0123-abcd"]
    assert len(access) == 1
    assert {"method": "GET", "path": "/login", "status": 200}.items() <= access[0].items()
    assert any(line["message"] == "Shutting down: Master" for line in lines), server.log.read_text()


def test_the_access_log_masks_tokens_in_paths_and_never_logs_the_query(site: Path):
    with gunicorn(production_env(site, TROUSSEAU_SECURE_COOKIES="0")) as server:
        server.get("/email/verifier/Zm9vYmFy0123456789abcdefghijkl/?code=123456")
    access = [line for line in _json_lines(server.log) if line["logger"] == "gunicorn.access"]
    paths = [line["path"] for line in access]
    assert "/email/verifier/[jeton]/" in paths
    assert "123456" not in server.log.read_text()
    assert "Zm9vYmFy0123456789abcdefghijkl" not in server.log.read_text()


def test_text_logs_when_asked_are_text_lines_masked_the_same_way(site: Path):
    with gunicorn(production_env(site, TROUSSEAU_SECURE_COOKIES="0", TROUSSEAU_LOG_FORMAT="text")) as server:
        server.get("/email/verifier/Zm9vYmFy0123456789abcdefghijkl/?code=123456", headers={"X-Request-ID": "lb-77"})
        status = server.stop()
    assert status == 0
    text = server.log.read_text()
    assert _json_lines(server.log) == []  # neither gunicorn's nor Django's lines are JSON
    access = [line for line in text.splitlines() if " gunicorn.access [lb-77] " in line]
    assert len(access) == 1, text
    assert " GET /email/verifier/[jeton]/ " in access[0]
    assert "123456" not in text
    assert "Zm9vYmFy0123456789abcdefghijkl" not in text
    assert any(" INFO gunicorn.error [-] Shutting down: Master" in line for line in text.splitlines()), text


def test_a_worker_warms_up_before_its_first_connection(site: Path):
    with gunicorn(production_env(site, TROUSSEAU_SECURE_COOKIES="0", TROUSSEAU_LOG_LEVEL="INFO")) as server:
        server.get("/login")
    lines = _json_lines(server.log)
    warmed = [n for n, line in enumerate(lines) if line["message"] == "warm-up done"]
    first_request = next(n for n, line in enumerate(lines) if line["logger"] == "gunicorn.access")
    assert len(warmed) == 1, server.log.read_text()
    assert warmed[0] < first_request
    steps = lines[warmed[0]]["steps_ms"]
    assert isinstance(steps, dict)
    assert set(steps) == {"urls", "catalogues", "accounts", "signin", "saml", "oidc"}
