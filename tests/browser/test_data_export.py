""" "Télécharger mes données" walked in Chromium: log in, ask for the file, read the JSON it downloads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Demo
from tests.browser.steps import expect_accessible, expect_account_home, log_in
from trousseau.accounts.models import Account
from trousseau.accounts.services import account_activate, current_letter
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent

pytestmark = pytest.mark.browser

PASSWORD = "Cartable#Violet42"
EXPORT = "Télécharger mes données"


def test_download_my_data(page: Page, demo: Demo) -> None:
    letter = demo.guardians[0]
    account = Account.objects.get(identifier=letter.identifier)
    issued = current_letter(account)
    assert issued is not None
    account_activate(account=account, letter_id=issued.pk, password=PASSWORD, email="")
    children = sorted(pupil.first_name for pupil in account.pupils())

    log_in(page, letter.identifier, PASSWORD)
    expect_account_home(page, letter.identifier)
    page.get_by_role("link", name=EXPORT).click()
    expect(page.get_by_role("heading", name=EXPORT, level=1)).to_be_visible()
    expect_accessible(page, "the data export page")

    page.get_by_label("Mot de passe").fill("Pas#LeBon2024")
    page.get_by_role("button", name=EXPORT).click()
    expect(page.locator(".fr-error-text")).to_have_text(
        "Le mot de passe est incorrect. Aucune donnée n'a été téléchargée."
    )
    expect_accessible(page, "the data export page with its error")

    page.get_by_label("Mot de passe").fill(PASSWORD)
    with page.expect_download() as download_info:
        page.get_by_role("button", name=EXPORT).click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"trousseau-{letter.identifier}-")
    document = json.loads(Path(download.path()).read_text(encoding="utf-8"))

    assert document["account"]["identifier"] == letter.identifier
    assert sorted(child["first_name"] for child in document["directory"]["children"]) == children
    assert {record["mobile"] for record in document["directory"]["guardian_records"]} == {letter.phone}
    assert "Connexion réussie" in [event["label"] for event in document["events"]]
    assert letter.provisional_password not in json.dumps(document)
    assert AuditEvent.objects.filter(account=account, tag=EventTag.DATA_EXPORTED).count() == 1
