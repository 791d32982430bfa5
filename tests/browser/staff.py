"""Staff of the demo académie for the console journeys: read from staff.csv as a school gets it, logged in with TOTP."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.browser.steps import expect_accessible
from tests.codes import other_code
from trousseau.console import totp

COLLEGE = "0145678B"


@dataclass(frozen=True)
class Staff:
    email: str
    password: str
    totp_secret: str
    school_uai: str


def secretary(tmp_path: Path) -> Staff:
    """The collège's secretary from staff.csv, as a school would receive it."""
    with (tmp_path / "staff.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["role"] == "secretariat" and row["school_uai"] == COLLEGE:
                return Staff(row["email"], row["password"], row["totp_secret"], row["school_uai"])
    pytest.fail("staff.csv has no secretary for the collège")


def operator(tmp_path: Path) -> Staff:
    """The académie's operator from staff.csv (no school of her own)."""
    with (tmp_path / "staff.csv").open(newline="", encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["role"] == "academie")
    return Staff(row["email"], row["password"], row["totp_secret"], "")


def staff_log_in(page: Page, staff: Staff) -> None:
    page.goto("/console/")
    expect(page.get_by_role("heading", name="Connexion à la console des établissements")).to_be_visible()
    expect_accessible(page, "the console login")
    page.get_by_label("Adresse email professionnelle").fill(staff.email)
    page.get_by_label("Mot de passe").fill(staff.password)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Code de vérification")).to_be_visible()
    expect_accessible(page, "the console's code page")
    # A wrong code first: refused, the form stays.
    right = totp.code_at(staff.totp_secret, now())
    page.get_by_label("Code de vérification").fill(other_code(right, by=500_000))
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("alert")).to_contain_text("Code incorrect.")
    expect_accessible(page, "the console's code page with an error")
    page.get_by_label("Code de vérification").fill(totp.code_at(staff.totp_secret, now()))
    page.get_by_role("button", name="Valider").click()


def now() -> datetime:
    return timezone.now()
