"""Checks and imports as background jobs: queued by the upload, run once by a worker, followed on a page
that polls their state and the rows read, and the result shown when they end."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.console import helpers
from tests.console.test_imports import GUARDIANS, PUPILS, check, confirm_url, upload
from trousseau.audit.events import EventTag
from trousseau.console.models import ImportJob, ImportJobState, PendingImport, StaffRole
from trousseau.console.services import import_jobs, imports
from trousseau.console.tasks import run_import_job
from trousseau.core import cache as best_effort
from trousseau.directory.models import Pupil
from trousseau.provisioning.services import ImportProgress

pytestmark = pytest.mark.django_db
MANY = 2500  # rows: more than the importer's PROGRESS_EVERY, so progress is reported mid-file


@pytest.fixture
def queue(settings):
    """A queue no worker reads: jobs stay queued until the test runs them, as a worker would."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def _upload(browser, school):
    files = {"pupils": upload("eleves.csv", PUPILS), "guardians": upload("responsables.csv", GUARDIANS)}
    return browser.post(reverse("console:import", args=[school.uai]), files)


def test_the_upload_queues_a_check_followed_until_its_result(queue, browser, school, member):
    queued = _upload(browser, school)
    assert queued.status_code == 302
    job = ImportJob.objects.get()
    assert queued["Location"] == reverse("console:import_job", args=[school.uai, job.pk])
    page = browser.get(queued["Location"])
    assert page.status_code == 200
    assert "Vérification des fichiers en cours" in page.text
    assert "En attente de traitement" in page.text
    assert "import-progress.js" in page.text
    status = browser.get(queued["Location"] + "etat/").json()
    assert status == {"state": "queued", "finished": False, "phase": "", "rows": 0, "fraction": None}
    assert not helpers.events(EventTag.CONSOLE_IMPORT_PREVIEWED)  # nothing checked yet

    run_import_job.call(str(job.pk))  # the worker
    assert browser.get(queued["Location"] + "etat/").json()["finished"] is True
    preview = browser.get(queued["Location"])
    assert "Aucune erreur" in preview.text
    assert not Pupil.objects.exists()

    applying = browser.post(confirm_url(preview.text))
    apply_job = ImportJob.objects.exclude(pk=job.pk).get()
    assert "Import des fiches en cours" in browser.get(applying["Location"]).text
    run_import_job.call(str(apply_job.pk))
    done = browser.get(applying["Location"])
    assert "Import terminé" in done.text
    assert Pupil.objects.filter(school=school).count() == 2
    assert ImportJob.objects.get(pk=apply_job.pk).state == ImportJobState.DONE


def test_a_job_delivered_twice_runs_once(queue, browser, school, member):
    _upload(browser, school)
    job = ImportJob.objects.get()
    run_import_job.call(str(job.pk))
    run_import_job.call(str(job.pk))
    assert len(helpers.events(EventTag.CONSOLE_IMPORT_PREVIEWED, staff=member.pk)) == 1


def test_progress_is_reported_while_the_worker_reads(queue, browser, school, monkeypatch):
    class Recorder:
        def __init__(self) -> None:
            self.values: dict[str, Any] = {}
            self.seen: list[dict[str, Any]] = []

        def set(self, key: str, value: dict[str, Any], timeout: int) -> None:
            self.values[key] = value
            self.seen.append(value)

        def get(self, key: str) -> Any:
            return self.values.get(key)

        def delete_many(self, keys: list[str]) -> None:
            for key in keys:
                self.values.pop(key, None)

    recorder = Recorder()
    monkeypatch.setattr(best_effort, "cache", recorder)
    monkeypatch.setattr(import_jobs, "PROGRESS_INTERVAL", 0)
    many = [PUPILS[0]] + [f"1{n:08d}AB;Nom{n};Prénom;01/01/2012;5e B;" for n in range(MANY)]
    browser.post(reverse("console:import", args=[school.uai]), {"pupils": upload("eleves.csv", many)})
    job = ImportJob.objects.get()
    run_import_job.call(str(job.pk))
    rows = [value["rows"] for value in recorder.seen if value["phase"] == "eleves"]
    assert 1000 in rows and 2000 in rows  # noqa: PT018 - two reports mid-file
    assert all(0 <= (value["fraction"] or 0) <= 1 for value in recorder.seen)
    assert recorder.values == {}  # cleared when the job ended
    result = ImportJob.objects.get(pk=job.pk).result
    assert result is not None
    assert result["rows"] == MANY


def test_the_page_shows_the_rows_read_so_far(queue, browser, school):
    queued = _upload(browser, school)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJobState.RUNNING)
    report = import_jobs._reporter(job.pk)
    report(ImportProgress("responsables", 1500, 300, 600))
    status = browser.get(queued["Location"] + "etat/").json()
    assert status == {"state": "running", "finished": False, "phase": "responsables", "rows": 1500, "fraction": 0.5}
    page = browser.get(queued["Location"])
    assert "1500 lignes lues" in page.text
    assert 'value="50"' in page.text


def test_a_job_that_fails_says_so_and_changes_nothing(queue, browser, school, monkeypatch):
    queued = _upload(browser, school)
    job = ImportJob.objects.get()

    def broken(**kw: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(imports, "check", broken)
    with pytest.raises(RuntimeError):
        run_import_job.call(str(job.pk))
    page = browser.get(queued["Location"])
    assert page.status_code == 400
    assert "L'import a échoué : rien n'a été enregistré." in page.text
    assert not Pupil.objects.exists()


def test_an_unreadable_file_ends_the_check_with_the_reason(queue, browser, school, member):
    browser.post(reverse("console:import", args=[school.uai]), {"pupils": upload("eleves.csv", ["NOM;PRENOM", "a;b"])})
    job = ImportJob.objects.get()
    run_import_job.call(str(job.pk))
    page = browser.get(reverse("console:import_job", args=[school.uai, job.pk]))
    assert page.status_code == 400
    assert 'role="alert"' in page.text
    assert not PendingImport.objects.exists()  # the files are not kept
    assert helpers.events(EventTag.CONSOLE_IMPORT_REFUSED, staff=member.pk)


def test_a_read_only_member_cannot_start_a_job(school, browser):
    reader = helpers.console(helpers.staff(StaffRole.READONLY, school=school))
    assert check(reader, school).status_code == 403
    assert not ImportJob.objects.exists()


@pytest.mark.django_db(transaction=True)  # the worker closes and reopens its database connection
def test_the_database_queue_and_its_worker_run_the_jobs(settings, browser, school):
    """Production's path: django-tasks-db keeps the task in a table, `db_worker` runs it."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    queued = _upload(browser, school)
    job = ImportJob.objects.get()
    assert job.state == ImportJobState.QUEUED
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert "Aucune erreur" in browser.get(queued["Location"]).text
    applying = browser.post(confirm_url(browser.get(queued["Location"]).text))
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert "Import terminé" in browser.get(applying["Location"]).text
    assert Pupil.objects.filter(school=school).count() == 2


def test_an_import_runs_and_is_followed_without_the_cache(lost_cache, queue, browser, school):
    """Redis lost: progress is not kept, the job and its page go on (security.md §7 check 38)."""
    queued = _upload(browser, school)
    job = ImportJob.objects.get()
    run_import_job.call(str(job.pk))  # reports progress into the cache, which is gone
    status = browser.get(queued["Location"] + "etat/")
    assert status.status_code == 200
    assert status.json()["finished"] is True
    assert "Aucune erreur" in browser.get(queued["Location"]).text
