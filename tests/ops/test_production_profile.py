"""The production profile: `check --deploy` passes with what deploy/env.example sets, and static files are served."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.ops.serving import ROOT, gunicorn, production_env

SETTINGS = sorted((ROOT / "trousseau" / "settings").glob("*.py"))
ENV_EXAMPLE = ROOT / "deploy" / "env.example"


def _production(site: Path, **overrides: str) -> dict[str, str]:
    return production_env(
        site,
        DATABASE_URL="postgres://trousseau@db.internal:5432/trousseau?connect_timeout=5",
        REDIS_URL="redis://cache.internal:6379/0",
        TROUSSEAU_TASKS_BACKEND="django_tasks_db.DatabaseBackend",
        TROUSSEAU_ALLOWED_HOSTS="trousseau.ac-exemple.fr",
        TROUSSEAU_PUBLIC_URL="https://trousseau.ac-exemple.fr",
        TROUSSEAU_SAML_DEV_KEYS="0",
        **overrides,
    )


def _saml_keys(site: Path) -> dict[str, str]:
    key, cert = site / "saml.key", site / "saml.crt"
    if not cert.exists():
        subprocess.run(  # noqa: S603 - fixed arguments
            [
                *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert),
                *("-days", "30", "-subj", "/CN=trousseau.ac-exemple.fr"),
            ],
            check=True,
            capture_output=True,
        )
    return {"TROUSSEAU_SAML_SIGNING_KEY": str(key), "TROUSSEAU_SAML_SIGNING_CERT": str(cert)}


def test_check_deploy_passes_in_a_production_environment(site: Path):
    # No database or Redis is reached: the deploy checks read settings only.
    checked = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production(site, **_saml_keys(site)),
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr + checked.stdout
    assert "System check identified no issues" in checked.stdout


def test_check_deploy_flags_plain_http_cookies(site: Path):
    checked = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production(site, TROUSSEAU_SECURE_COOKIES="0", **_saml_keys(site)),
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode != 0
    assert "security.W012" in checked.stderr + checked.stdout


def test_env_example_lists_every_variable_the_settings_read():
    text = "\n".join(source.read_text() for source in SETTINGS)
    read = set(re.findall(r"""env(?:_bool)?\(\s*"([A-Z0-9_]+)\"""", text))
    read |= set(re.findall(r"""os\.environ\.get\("([A-Z0-9_]+)\"""", text))
    assert "TROUSSEAU_SAML_LOGIN_MODE" in read, "the protocols' settings (settings/federation.py) are read too"
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE))
    assert read - listed == set()
    assert "TROUSSEAU_DEBUG" in read


def test_collected_static_files_are_served_with_hashed_names_and_a_long_cache(site: Path, tmp_path: Path):
    env = production_env(
        site,
        TROUSSEAU_SECURE_COOKIES="0",
        TROUSSEAU_STATIC_MANIFEST="1",
        TROUSSEAU_STATIC_ROOT=str(tmp_path / "static"),
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    with gunicorn(env) as server:
        page = server.get("/login")
        stylesheet = re.search(r'href="(/static/[^"]+\.css)"', page.text)
        assert stylesheet is not None, page.text
        css = server.get(stylesheet.group(1), headers={"Accept-Encoding": "gzip"})
    assert re.search(r"\.[0-9a-f]{12}\.css$", stylesheet.group(1))
    assert css.status_code == 200
    assert css.headers["Content-Type"].startswith("text/css")
    assert "immutable" in css.headers["Cache-Control"]
    assert css.headers.get("Content-Encoding") == "gzip"
