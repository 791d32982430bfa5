"""The console side of issue #15 findings 1, 12 and 14: what the preview offers, what a confirmation
carries, what the journal shows for each school."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.console import helpers
from tests.console.test_imports import check, confirm_url, upload
from trousseau.audit.events import EventTag
from trousseau.console.models import StaffRole
from trousseau.console.selectors import journal
from trousseau.console.services import actions, imports
from trousseau.directory.models import Pupil
from trousseau.provisioning.services import ImportResult, SyncCounts

pytestmark = pytest.mark.django_db
ONE = ["INE;NOM;PRENOM;DATE_NAISS;CLASSE;UAI", "100000001AB;Dupont;Léa;14/03/2012;5e B;"]


def test_the_upload_form_defaults_to_additions(browser, school):
    factories.pupil(school=school, ine="100000009AB", last_name="Reste")
    page = browser.get(reverse("console:import", args=[school.uai])).text
    assert 'value="additions" checked' in page
    preview = check(browser, school, pupils=ONE, guardians=None)
    assert "personne ne quitte" in preview.text
    browser.post(confirm_url(preview.text))
    assert Pupil.objects.get(ine="100000009AB").left_at is None


def test_a_complete_list_offers_the_confirmations_that_name_the_number(browser, school):
    factories.pupil(school=school, ine="100000009AB", last_name="Reste", first_name="Zoé")
    preview = browser.post(
        reverse("console:import", args=[school.uai]),
        {"mode": "complete", "pupils": _upload(ONE)},
        follow=True,
    ).text
    assert 'id="import-leaving"' in preview
    assert "Zoé" in preview
    assert 'name="departs" value="1-0"' in preview
    assert 'name="part" value="oui"' in preview  # 1 of 1 present: 100 % > 20 %


def _upload(lines):
    return upload("eleves.csv", lines)


@pytest.mark.parametrize(
    ("posted", "expected"),
    [
        ({}, {"pupils_left": 0, "guardians_left": 0, "share": False, "file_mobiles": []}),
        (
            {"departs": "12-3", "part": "oui", "tel_7": "fichier", "tel_8": "console", "tel_x": "fichier"},
            {"pupils_left": 12, "guardians_left": 3, "share": True, "file_mobiles": [7]},
        ),
        (
            {"departs": "douze", "part": "1"},
            {"pupils_left": 0, "guardians_left": 0, "share": False, "file_mobiles": []},
        ),
    ],
)
def test_a_confirmation_reads_only_what_the_preview_offers(posted, expected):
    assert imports.confirmation_from(posted) == expected


def test_a_console_correction_marks_the_mobile(school, member):
    family = helpers.family(school)
    guardian = family.guardian_account.guardian_links.get().guardian
    actions.guardian_contact_update(
        staff=member, school=school, guardian=guardian, account=family.guardian_account, mobile="0699887766", email=""
    )
    guardian.refresh_from_db()
    assert guardian.mobile_fixed_at is not None
    before = guardian.mobile_fixed_at
    actions.guardian_contact_update(
        staff=member,
        school=school,
        guardian=guardian,
        account=family.guardian_account,
        mobile="0699887766",
        email="a@example.org",
    )
    guardian.refresh_from_db()
    assert guardian.mobile_fixed_at == before  # only a changed mobile is a correction


def test_a_move_shows_in_both_schools_journals():
    origin, destination = factories.school(uai="0141111A"), factories.school(uai="0142222B")
    factories.pupil(school=origin, ine="100000007AB", left_at=timezone.now())
    member = helpers.staff(StaffRole.SECRETARIAT, school=destination)
    pending = imports.read_uploads(
        pupils=_upload(["INE;NOM;PRENOM;DATE_NAISS;CLASSE;UAI", "100000007AB;Roux;Noé;01/02/2008;5e B;"]),
        guardians=None,
    )
    pending.staff, pending.school = member, destination
    pending.save()
    imports.apply(staff=member, school=destination, pending=pending, ip=None, progress=None)
    for school, text in ((origin, "de 0141111A vers 0142222B"), (destination, "de 0141111A vers 0142222B")):
        [line] = [x for x in journal.school_journal(school) if x.tag == EventTag.DIRECTORY_PUPIL_TRANSFERRED]
        assert "100000007AB" in line.detail
        assert text in line.detail
        assert f"console:{member.email}" in line.detail


def test_the_preview_asks_for_the_share_exactly_when_the_import_would_demand_it(settings):
    settings.IMPORT_DEPARTURE_SHARE_LIMIT = 0.02
    just_over = ImportResult(dry_run=True, pupils=SyncCounts(left=1), pupils_present=49)  # 2.04 %, shown as 2 %
    assert just_over.departure_percent == imports.share_limit_percent()
    assert imports.asks_share(just_over)
    at_the_limit = ImportResult(dry_run=True, pupils=SyncCounts(left=1), pupils_present=50)
    assert not imports.asks_share(at_the_limit)
