"""Actions on accounts: each changes what it says, refuses what it should, and is audited with who and where."""

import io

import pytest
from django.contrib.auth.hashers import check_password
from django.urls import reverse
from pypdf import PdfReader

from tests import factories
from tests.accounts.helpers import logged_in
from tests.console import helpers
from trousseau.accounts import activity
from trousseau.accounts.models import AccountSession, AccountState, ActivationLetter, ContestedLink
from trousseau.audit.events import EventTag
from trousseau.console.models import StaffRole
from trousseau.directory.models import Guardianship

pytestmark = pytest.mark.django_db
CONFIRMED = {"confirme": "oui"}  # the confirmation page's button


@pytest.fixture
def setup():
    school = factories.school()
    family = helpers.family(school)
    member = helpers.staff(StaffRole.SECRETARIAT, school=school)
    return school, family, member, helpers.console(member)


def pdf_text(response) -> tuple[int, str]:
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    reader = PdfReader(io.BytesIO(response.content))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def audited(tag, member, school, account=None):
    rows = helpers.events(tag, staff=member.pk, school=school.uai)
    assert rows, tag
    if account is not None:
        assert rows[0].account_id == account.pk
    return rows[0]


def test_reset_makes_the_account_provisional_and_downloads_its_new_letter(setup):
    school, family, member, browser = setup
    account = helpers.activate(family.guardian_account)
    family_browser = logged_in(account)
    old_letter = ActivationLetter.objects.filter(account=account).first()

    response = browser.post(reverse("console:reset", args=[school.uai, account.pk]), CONFIRMED)
    pages, text = pdf_text(response)
    assert pages == 1
    assert account.identifier in text

    account.refresh_from_db()
    assert account.state == AccountState.PROVISIONAL
    assert account.activated_at is None
    assert not account.has_usable_password()
    assert not AccountSession.objects.filter(account=account).exists()
    assert family_browser.get(reverse("accounts:home")).status_code == 302
    old_letter.refresh_from_db()
    assert old_letter.revoked_at is not None
    assert account.letters.filter(revoked_at=None).count() == 1
    event = audited(EventTag.CONSOLE_ACCOUNT_RESET, member, school, account)
    assert event.data["previous_state"] == AccountState.ACTIVE
    assert audited(EventTag.CONSOLE_LETTERS_PRINTED, member, school).data["accounts"] == [account.identifier]
    # The family reads the step in its own history.
    labels = [line.label for line in activity.history(account)]
    assert "Compte réinitialisé par l'établissement (nouveau courrier)" in labels


def test_a_new_letter_for_a_provisional_account_revokes_the_old_one(setup):
    school, family, member, browser = setup
    account = family.pupil_account
    before = account.letters.get()
    pages, text = pdf_text(browser.post(reverse("console:letter", args=[school.uai, account.pk])))
    assert pages == 1
    assert account.identifier in text
    before.refresh_from_db()
    assert before.revoked_at is not None
    assert audited(EventTag.CONSOLE_LETTERS_PRINTED, member, school).data["scope"] == "account"


def test_the_family_letters_of_a_pupil_cover_the_pupil_and_the_guardians(setup):
    school, family, _, browser = setup
    pages, text = pdf_text(browser.post(reverse("console:pupil_letters", args=[school.uai, family.pupil_account.pk])))
    assert pages == 2
    assert family.pupil_account.identifier in text
    assert family.guardian_account.identifier in text


def test_an_active_account_gets_no_plain_letter(setup):
    school, family, _, browser = setup
    account = helpers.activate(family.pupil_account)
    response = browser.post(reverse("console:letter", args=[school.uai, account.pk]), follow=True)
    assert "Ce compte n'attend pas d'activation" in response.text
    assert check_password(factories.GOOD_PASSWORD, type(account).objects.get(pk=account.pk).password)


def test_disable_then_enable(setup):
    school, family, member, browser = setup
    account = helpers.activate(family.guardian_account)
    family_browser = logged_in(account)
    response = browser.post(reverse("console:disable", args=[school.uai, account.pk]), CONFIRMED, follow=True)
    assert "Le compte a été désactivé." in response.text
    account.refresh_from_db()
    assert account.state == AccountState.DISABLED
    assert family_browser.get(reverse("accounts:home")).status_code == 302
    assert audited(EventTag.CONSOLE_ACCOUNT_DISABLED, member, school, account).data["sessions_ended"] == 1
    # Disabled twice: refused, nothing new audited.
    again = browser.post(reverse("console:disable", args=[school.uai, account.pk]), CONFIRMED, follow=True)
    assert "Ce compte est déjà désactivé." in again.text
    assert len(helpers.events(EventTag.CONSOLE_ACCOUNT_DISABLED)) == 1
    # A disabled account is not reset: it is enabled first.
    assert (
        "réactivez-le"
        in browser.post(reverse("console:reset", args=[school.uai, account.pk]), CONFIRMED, follow=True).text
    )

    browser.post(reverse("console:enable", args=[school.uai, account.pk]))
    account.refresh_from_db()
    assert account.state == AccountState.ACTIVE
    assert account.check_password(factories.GOOD_PASSWORD)
    assert audited(EventTag.CONSOLE_ACCOUNT_ENABLED, member, school, account).data["new_state"] == AccountState.ACTIVE


def test_enabling_a_never_activated_account_makes_it_provisional(setup):
    school, family, _, browser = setup
    account = family.pupil_account
    browser.post(reverse("console:disable", args=[school.uai, account.pk]), CONFIRMED)
    browser.post(reverse("console:enable", args=[school.uai, account.pk]))
    account.refresh_from_db()
    assert account.state == AccountState.PROVISIONAL


def test_a_guardians_mobile_and_email_are_corrected(setup):
    school, family, member, browser = setup
    account = family.guardian_account
    guardian = account.guardian_links.get().guardian
    url = reverse("console:contact", args=[school.uai, account.pk, guardian.pk])
    assert "+33612345678" in browser.get(url).text
    response = browser.post(url, {"mobile": "07 98 76 54 32", "email": "sophie.dupont@example.fr"})
    assert response.status_code == 302
    guardian.refresh_from_db()
    assert guardian.mobile == "+33798765432"
    assert guardian.email == "sophie.dupont@example.fr"
    event = audited(EventTag.CONSOLE_CONTACT_UPDATED, member, school, account)
    assert event.data["fields"] == ["mobile", "email"]
    assert event.data["mobile"].endswith("32")
    assert "98 76 54" not in str(event.data)


@pytest.mark.parametrize(("mobile", "email"), [("12", ""), ("01 23", ""), ("", "pas-une-adresse")])
def test_bad_contacts_are_refused_and_change_nothing(setup, mobile, email):
    school, family, _, browser = setup
    account = family.guardian_account
    guardian = account.guardian_links.get().guardian
    response = browser.post(
        reverse("console:contact", args=[school.uai, account.pk, guardian.pk]), {"mobile": mobile, "email": email}
    )
    assert response.status_code == 400
    assert "fr-error-text" in response.text
    guardian.refresh_from_db()
    assert guardian.mobile == "+33612345678"
    assert not helpers.events(EventTag.CONSOLE_CONTACT_UPDATED)


def test_a_guardian_row_of_another_account_is_not_found(setup):
    school, family, _, browser = setup
    other = helpers.family(school, last_name="Martin")
    guardian = other.guardian_account.guardian_links.get().guardian
    url = reverse("console:contact", args=[school.uai, family.guardian_account.pk, guardian.pk])
    assert browser.get(url).status_code == 404


def contest(family):
    link = Guardianship.objects.get(pupil=family.pupil, guardian__account_link__account=family.guardian_account)
    return ContestedLink.objects.create(guardianship=link, reported_by=family.guardian_account), link


def test_a_contested_link_is_confirmed(setup):
    school, family, member, browser = setup
    row, _ = contest(family)
    assert family.pupil not in family.guardian_account.pupils()
    page = browser.get(reverse("console:contests", args=[school.uai])).text
    assert family.pupil.ine in page
    assert "1 lien signalé" in browser.get(reverse("console:school", args=[school.uai])).text
    response = browser.post(
        reverse("console:resolve", args=[school.uai, row.pk]),
        {"decision": "keep", "next": reverse("console:contests", args=[school.uai])},
        follow=True,
    )
    assert "Le lien a été confirmé" in response.text
    assert "Aucun lien signalé par les familles." in response.text
    row.refresh_from_db()
    assert row.resolved_at is not None
    assert family.pupil in family.guardian_account.pupils()
    assert (
        audited(EventTag.CONSOLE_LINK_CONFIRMED, member, school, family.guardian_account).data["pupil"]
        == family.pupil.ine
    )


def test_a_contested_link_is_removed(setup):
    school, family, member, browser = setup
    row, link = contest(family)
    browser.post(reverse("console:resolve", args=[school.uai, row.pk]), {"decision": "remove"})
    assert not Guardianship.objects.filter(pk=link.pk).exists()
    assert not ContestedLink.objects.filter(pk=row.pk).exists()
    assert audited(EventTag.CONSOLE_LINK_REMOVED, member, school, family.guardian_account)


def test_a_contest_needs_a_decision_and_is_settled_once(setup):
    school, family, _, browser = setup
    row, _ = contest(family)
    url = reverse("console:resolve", args=[school.uai, row.pk])
    assert "Choisissez si le lien est juste ou faux." in browser.post(url, {}, follow=True).text
    browser.post(url, {"decision": "keep"})
    assert browser.post(url, {"decision": "remove"}).status_code == 404
    assert Guardianship.objects.filter(pk=row.guardianship_id).exists()


def test_another_schools_contest_is_not_found(setup):
    school, _, _, browser = setup
    row, _ = contest(helpers.family(factories.school()))
    assert (
        browser.post(reverse("console:resolve", args=[school.uai, row.pk]), {"decision": "remove"}).status_code == 404
    )


def test_the_account_page_shows_state_links_contests_and_history(setup):
    school, family, _, browser = setup
    contest(family)
    page = browser.get(reverse("console:account", args=[school.uai, family.guardian_account.pk])).text
    assert family.guardian_account.identifier in page
    assert "Provisoire" in page
    assert family.pupil.ine in page
    assert "signalé" in page
    assert "Courrier d'activation émis par l'établissement" in page
    pupil_page = browser.get(reverse("console:account", args=[school.uai, family.pupil_account.pk])).text
    assert family.guardian_account.identifier in pupil_page


def test_a_guardians_children_at_other_schools_are_counted_not_shown(setup):
    school, family, _, browser = setup
    elsewhere = factories.pupil(school=factories.school(), first_name="Hugo", ine="999999999ZZ")
    guardian = family.guardian_account.guardian_links.get().guardian
    Guardianship.objects.create(guardian=guardian, pupil=elsewhere)
    page = browser.get(reverse("console:account", args=[school.uai, family.guardian_account.pk])).text
    assert family.pupil.ine in page
    assert "999999999ZZ" not in page
    assert elsewhere.school.name not in page
    assert "aussi rattaché à 1 élève d'un autre établissement" in page


@pytest.mark.parametrize(
    ("action", "says"),
    [
        ("reset", "Le mot de passe actuel cesse de fonctionner."),
        ("disable", "Plus personne ne peut se connecter avec ce compte ni l'activer."),
    ],
)
def test_reset_and_disable_say_what_they_will_do_before_doing_it(setup, action, says):
    school, family, _member, browser = setup
    account = helpers.activate(family.guardian_account)
    page = browser.get(reverse("console:account", args=[school.uai, account.pk])).text
    confirm_url = reverse(f"console:{action}_confirm", args=[school.uai, account.pk])
    assert f'href="{confirm_url}"' in page  # the account page leads to the confirmation, it does not act
    confirmation = browser.get(confirm_url)
    assert says in confirmation.text
    assert account.identifier in confirmation.text
    assert 'name="confirme" value="oui"' in confirmation.text
    # A post that skipped the confirmation is sent to it, and changes nothing.
    skipped = browser.post(reverse(f"console:{action}", args=[school.uai, account.pk]))
    assert skipped.status_code == 302
    assert skipped["Location"] == confirm_url
    account.refresh_from_db()
    assert account.state == AccountState.ACTIVE
    browser.post(reverse(f"console:{action}", args=[school.uai, account.pk]), CONFIRMED)
    account.refresh_from_db()
    assert account.state == (AccountState.PROVISIONAL if action == "reset" else AccountState.DISABLED)


def test_a_reader_gets_no_confirmation_page(setup):
    school, family, _member, _browser = setup
    reader = helpers.console(helpers.staff(StaffRole.READONLY, school=school))
    url = reverse("console:reset_confirm", args=[school.uai, family.guardian_account.pk])
    assert reader.get(url).status_code == 403


def test_resolved_contests_stay_listed_with_who_reported_and_who_decided(setup):
    school, family, member, browser = setup
    kept, _ = contest(family)
    other = helpers.family(school, last_name="Martin")
    removed, _ = contest(other)
    url = reverse("console:contests", args=[school.uai])
    browser.post(reverse("console:resolve", args=[school.uai, kept.pk]), {"decision": "keep"})
    browser.post(reverse("console:resolve", args=[school.uai, removed.pk]), {"decision": "remove"})
    assert "Aucun lien signalé par les familles." in browser.get(url).text
    page = browser.get(url, {"etat": "resolus"}).text
    assert page.count("<tr><td>") == 2
    assert "lien confirmé" in page
    assert "lien supprimé" in page
    assert f"INE {other.pupil.ine}" in page  # the removed link is gone from the directory, not from the list
    assert family.guardian_account.identifier in page  # who reported
    assert other.guardian_account.identifier in page
    assert page.count(member.email) >= 2  # who decided
