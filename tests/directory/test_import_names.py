"""Names corrected by a later import reach the accounts (issue #15, finding 13), on both engines.

Before the encoding was decided for the whole file, imports wrote names such as "Ã‰loÃ¯se": the
corrected file must fix the account's names (what services receive, what the next letter prints),
and leave its identifier, which the family logs in with, as it was.
"""

from __future__ import annotations

import pytest

from tests.directory.helpers import guardians_csv, ine, pupils_csv
from trousseau.accounts.models import Account, AccountGuardian, AccountKind
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.directory.models import Guardian
from trousseau.federation.claims import MINIMUM, Release, attributes, oidc_claims
from trousseau.letters.export import letters_issue
from trousseau.provisioning import accounts_bulk
from trousseau.provisioning.services import import_records

pytestmark = pytest.mark.django_db


def garbled(text: str) -> str:
    """What reading UTF-8 as Windows-1252 made of a name."""
    return text.encode("utf-8").decode("cp1252")


def pupil_row(first: str, last: str) -> str:
    return f"{ine(1)};{last};{first};14/03/2012;5e B;0145678B"


def guardian_row(first: str, last: str) -> str:
    return f"R1;{last};{first};06 12 34 56 78;;{ine(1)};1"


def run(first: str, last: str, parent: str, *, bulk_copy: bool):
    return import_records(
        pupils=pupils_csv([pupil_row(first, last)]),
        guardians=guardians_csv([guardian_row(parent, last)]),
        bulk_copy=bulk_copy,
        max_bytes=None,
    )


def test_corrected_names_reach_the_accounts_claims_and_letters(college, bulk_copy):
    run(garbled("Éloïse"), garbled("Lefèvre"), garbled("Hélène"), bulk_copy=bulk_copy)
    pupil = Account.objects.get(kind=AccountKind.PUPIL)
    parent = Account.objects.get(kind=AccountKind.GUARDIAN)
    assert pupil.first_name == "Ã‰loÃ¯se"
    identifiers = (pupil.identifier, parent.identifier)

    result = run("Éloïse", "Lefèvre", "Hélène", bulk_copy=bulk_copy)

    assert result.applied
    pupil.refresh_from_db()
    parent.refresh_from_db()
    assert (pupil.first_name, pupil.last_name) == ("Éloïse", "Lefèvre")
    assert (parent.first_name, parent.last_name) == ("Hélène", "Lefèvre")
    assert (pupil.identifier, parent.identifier) == identifiers  # what the family logs in with stays
    claims = oidc_claims(pupil, release=MINIMUM)
    assert (claims["given_name"], claims["family_name"]) == ("Éloïse", "LEFÈVRE")
    saml = attributes(parent, release=Release(children=True))
    assert (saml["givenName"], saml["sn"]) == (["Hélène"], ["LEFÈVRE"])
    assert "|LEFÈVRE|Éloïse|" in saml["FrEduCtEnfant"][0]
    letter, child_letter = letters_issue([parent, pupil])
    assert (letter.first_name, letter.last_name) == ("Hélène", "Lefèvre")
    assert (letter.children[0].first_name, child_letter.first_name) == ("Éloïse", "Éloïse")
    renamed = AuditEvent.objects.filter(tag=EventTag.ACCOUNT_RENAMED_BY_IMPORT)
    assert sorted(renamed.values_list("account_id", flat=True)) == sorted([pupil.pk, parent.pk])
    assert all(event.data == {"reason": "school_record"} for event in renamed)

    run("Éloïse", "Lefèvre", "Hélène", bulk_copy=bulk_copy)  # the same file again renames nothing
    assert renamed.count() == 2


def test_a_dry_run_renames_nothing(college, bulk_copy):
    run(garbled("Éloïse"), "Martin", "Paul", bulk_copy=bulk_copy)
    import_records(pupils=pupils_csv([pupil_row("Éloïse", "Martin")]), dry_run=True, bulk_copy=bulk_copy)
    assert Account.objects.get(kind=AccountKind.PUPIL).first_name == garbled("Éloïse")


def test_a_grouped_account_follows_its_records_only_while_they_agree(college):
    run("Hugo", "Martin", garbled("Hélène"), bulk_copy=False)
    parent = Account.objects.get(kind=AccountKind.GUARDIAN)
    elsewhere = Guardian.objects.create(last_name="Martin", first_name=garbled("Hélène"), mobile="+33612345678")
    AccountGuardian.objects.create(account=parent, guardian=elsewhere)  # grouped with another school's record

    run("Hugo", "Martin", "Hélène", bulk_copy=False)
    parent.refresh_from_db()
    assert parent.first_name == garbled("Hélène")  # the other school still spells it the old way

    elsewhere.first_name = "Hélène"
    elsewhere.save()
    assert accounts_bulk.rename_accounts([college.pk], now=parent.created_at) == 1
    parent.refresh_from_db()
    assert parent.first_name == "Hélène"
