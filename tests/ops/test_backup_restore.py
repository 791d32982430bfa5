"""The backup and restore procedure of docs/deployment.md, for real: pg_dump -Fc, pg_restore, a login."""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests

from tests.ops.serving import ROOT, gunicorn, migrate, production_env

SERVER = "postgres://postgres@127.0.0.1:5432"
PASSWORD = "Sauvegarde#Verte42"
PG_DUMP, PG_RESTORE = shutil.which("pg_dump") or "", shutil.which("pg_restore") or ""
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CREATE_ACCOUNT = f"""
from datetime import date
from django.utils import timezone
from trousseau.accounts.models import AccountState
from trousseau.accounts.services import account_create_for_pupil
from trousseau.directory.models import Pupil, School, SchoolLevel
school = School.objects.create(uai="0999998A", name="Collège de la Sauvegarde", level=SchoolLevel.COLLEGE, academie="Normandie")
pupil = Pupil.objects.create(ine="000000001BK", last_name="Martin", first_name="Léa", birth_date=date(2012, 5, 4), school=school, class_name="6e A")
account = account_create_for_pupil(pupil=pupil)
account.set_password({PASSWORD!r})
account.state = AccountState.ACTIVE
account.activated_at = timezone.now()
account.save()
print(account.identifier)
"""


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(SERVER + "/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    if not (PG_DUMP and PG_RESTORE):
        pytest.skip("pg_dump and pg_restore are not installed")
    suffix = secrets.token_hex(4)
    names = (f"trousseau_deploy_backup_{suffix}", f"trousseau_deploy_restored_{suffix}")
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{names[0]}"')
    try:
        yield f"{SERVER}/{names[0]}", f"{SERVER}/{names[1]}"
    finally:
        with _admin() as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _login(url: str, identifier: str, password: str) -> requests.Response:
    with requests.Session() as browser:
        page = browser.get(url + "/login", timeout=30)
        token = CSRF.search(page.text)
        assert token is not None, page.text
        return browser.post(
            url + "/login",
            data={"csrfmiddlewaretoken": token.group(1), "identifier": identifier, "password": password},
            timeout=30,
            allow_redirects=False,
        )


def test_a_dump_restored_into_a_new_database_serves_logins(databases: tuple[str, str], tmp_path: Path):
    source, restored = databases
    env = production_env(tmp_path, DATABASE_URL=source, TROUSSEAU_SECURE_COOKIES="0")
    migrate(env)
    created = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "manage.py", "shell", "-c", CREATE_ACCOUNT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    identifier = created.stdout.strip().splitlines()[-1]
    dump = tmp_path / "trousseau.dump"
    subprocess.run(  # noqa: S603 - fixed arguments
        [PG_DUMP, "--format=custom", "--no-owner", "--no-privileges", f"--file={dump}", source],
        check=True,
        capture_output=True,
    )
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{restored.rsplit("/", 1)[1]}"')
        admin.execute(f'DROP DATABASE "{source.rsplit("/", 1)[1]}" WITH (FORCE)')  # the original is gone
    subprocess.run(  # noqa: S603 - fixed arguments
        [PG_RESTORE, "--no-owner", "--no-privileges", "--jobs=2", f"--dbname={restored}", str(dump)],
        check=True,
        capture_output=True,
    )
    # Same keys as before the loss (production_env keeps the site's OIDC keys; the secret key is new,
    # which only ends sessions), the restored database, nothing else.
    with gunicorn({**env, "DATABASE_URL": restored}) as server:
        wrong = _login(server.url, identifier, "Mauvais#Mot2passe")
        right = _login(server.url, identifier, PASSWORD)
    assert wrong.status_code == 200
    assert right.status_code == 302, right.text
    assert right.headers["Location"] == "/compte/"
