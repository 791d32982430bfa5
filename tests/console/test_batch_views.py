"""Batch actions over HTTP: the checkboxes, the confirmation page, the action; bad selections change nothing."""

import pytest
from django.urls import reverse

from tests import factories
from tests.console import helpers
from tests.console.test_actions import pdf_text
from trousseau.accounts.models import AccountState, ActivationLetter
from trousseau.audit.events import EventTag
from trousseau.console.models import StaffRole

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(school):
    return helpers.family(school)


def _url(school):
    return reverse("console:batch", args=[school.uai])


def _letters():
    return set(ActivationLetter.objects.values_list("pk", "revoked_at"))


def _states():
    from trousseau.accounts.models import Account

    return dict(Account.objects.values_list("pk", "state"))


def test_the_search_and_the_waiting_list_have_labelled_checkboxes_and_a_select_all(browser, school, family):
    page = browser.get(reverse("console:search", args=[school.uai]), {"q": "Dupont"}).text
    label = f"Sélectionner DUPONT {family.pupil_account.first_name} ({family.pupil_account.identifier})"
    assert label in page
    assert (
        f'id="compte-{family.pupil_account.pk}" name="comptes" value="{family.pupil_account.pk}" form="batch-form">'
        in page
    )
    assert 'value="reset">Réinitialiser</button>' in page
    # "Tout sélectionner" reloads the page with every box ticked, without JavaScript.
    assert "Tout sélectionner (2 comptes affichés)" in page
    ticked = browser.get(reverse("console:search", args=[school.uai]), {"q": "Dupont", "tout": "1"}).text
    assert ticked.count('form="batch-form" checked>') == 2
    waiting = browser.get(reverse("console:waiting", args=[school.uai]), {"classe": "5e B", "tout": "1"}).text
    assert waiting.count('form="batch-form" checked>') == 2
    assert "Tout désélectionner" in waiting


def test_a_reader_sees_no_checkboxes_and_cannot_post(school, family):
    reader = helpers.console(helpers.staff(StaffRole.READONLY, school=school))
    page = reader.get(reverse("console:search", args=[school.uai]), {"q": "Dupont"}).text
    assert 'name="comptes"' not in page
    response = reader.post(_url(school), {"action": "disable", "comptes": [family.pupil_account.pk]})
    assert response.status_code == 403
    family.pupil_account.refresh_from_db()
    assert family.pupil_account.state == AccountState.PROVISIONAL


def test_the_confirmation_says_what_will_happen_and_changes_nothing(browser, school, family):
    active = helpers.activate(helpers.family(school, last_name="Martin").guardian_account)
    before = _letters()
    ids = [family.pupil_account.pk, family.guardian_account.pk, active.pk]
    response = browser.post(_url(school), {"action": "reprint", "comptes": ids, "retour": "/console/x"})
    assert response.status_code == 200
    page = response.text
    assert "Réimprimer les courriers de 2 comptes ?" in page
    assert "2 courriers encore valides ne pourront plus servir" in page
    assert "1 compte coché n'est pas concerné" in page
    assert "déjà activé : réinitialisez-le pour lui donner un nouveau courrier" in page
    assert f'name="prevus" value="{family.pupil_account.pk}"' in page
    assert f'name="prevus" value="{active.pk}"' not in page
    # The cancel link goes back to the search, not to an address of the form's choosing.
    assert f'href="{reverse("console:search", args=[school.uai])}"' in page
    assert _letters() == before


def test_a_confirmed_reprint_downloads_one_pdf_page_per_account(browser, school, family):
    ids = [family.pupil_account.pk, family.guardian_account.pk]
    response = browser.post(_url(school), {"action": "reprint", "comptes": ids, "prevus": ids, "confirme": "oui"})
    pages, text = pdf_text(response)
    assert pages == 2
    assert family.guardian_account.identifier in text
    assert helpers.events(EventTag.CONSOLE_BATCH_APPLIED, action="reprint", count=2)


def test_a_confirmed_export_downloads_a_csv(browser, school, family):
    ids = [family.guardian_account.pk]
    response = browser.post(_url(school), {"action": "export", "comptes": ids, "prevus": ids, "confirme": "oui"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert family.guardian_account.identifier in response.content.decode("utf-8-sig")


def test_a_confirmed_disable_goes_back_to_the_list_with_a_message(browser, school, family):
    ids = [family.pupil_account.pk, family.guardian_account.pk]
    back = reverse("console:waiting", args=[school.uai]) + "?classe=5e+B"
    data = {"action": "disable", "comptes": ids, "prevus": ids, "confirme": "oui", "retour": back}
    response = browser.post(_url(school), data, follow=True)
    assert response.redirect_chain[-1][0] == back
    assert "2 comptes ont été désactivés. Leurs sessions ont été fermées." in response.text
    assert {_states()[pk] for pk in ids} == {AccountState.DISABLED}


def test_a_foreign_account_id_is_refused_audited_and_nothing_changes(browser, school, family, member):
    foreign = helpers.family(factories.school(), last_name="Ailleurs").guardian_account
    ids = [family.guardian_account.pk, foreign.pk]
    states, letters = _states(), _letters()
    for data in (
        {"action": "reset", "comptes": ids},
        {"action": "reset", "comptes": ids, "prevus": ids, "confirme": "oui"},
        {"action": "disable", "comptes": [foreign.pk], "prevus": [foreign.pk], "confirme": "oui"},
    ):
        response = browser.post(_url(school), data, follow=True)
        assert "Certains comptes cochés ne sont pas ceux de cet établissement : aucune action n'a été faite." in (
            response.text
        )
    assert _states() == states
    assert _letters() == letters
    refused = helpers.events(EventTag.CONSOLE_BATCH_REFUSED, staff=member.pk, school=school.uai)
    assert len(refused) == 3
    assert foreign.pk in refused[0].data["ids"]
    assert not helpers.events(EventTag.CONSOLE_BATCH_APPLIED)


def test_another_schools_page_refuses_an_operator_outside_the_academie(school, family):
    operator = helpers.console(helpers.staff(StaffRole.ACADEMIE, academie="Bretagne"))
    ids = [family.guardian_account.pk]
    response = operator.post(_url(school), {"action": "disable", "comptes": ids, "prevus": ids, "confirme": "oui"})
    assert response.status_code == 403
    assert _states()[family.guardian_account.pk] == AccountState.PROVISIONAL


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "reset"}, "Cochez au moins un compte."),
        ({"action": "reset", "comptes": ["abc"]}, "La sélection envoyée n'est pas valide"),
        ({"action": "purge", "comptes": ["1"]}, "Choisissez une action parmi celles proposées sous la liste."),
        ({"comptes": ["1"]}, "Choisissez une action parmi celles proposées sous la liste."),
        ({"action": "reset", "comptes": [str(n) for n in range(1, 202)]}, "Vous avez coché 201 comptes"),
    ],
)
def test_bad_input_gets_a_french_message_and_changes_nothing(browser, school, family, data, message):
    states, letters = _states(), _letters()
    response = browser.post(_url(school), {**data, "confirme": "oui"}, follow=True)
    assert response.status_code == 200
    assert message in response.text
    assert _states() == states
    assert _letters() == letters
    assert not helpers.events(EventTag.CONSOLE_BATCH_APPLIED)


def test_a_stale_confirmation_shows_the_new_plan_and_does_nothing(browser, school, family):
    ids = [family.pupil_account.pk, family.guardian_account.pk]
    helpers.activate(family.guardian_account)  # after the page was shown with both accounts
    letters = _letters()
    response = browser.post(_url(school), {"action": "reprint", "comptes": ids, "prevus": ids, "confirme": "oui"})
    assert response.status_code == 200
    assert "Ces comptes ont changé depuis la confirmation" in response.text
    assert "Réimprimer le courrier de 1 compte ?" in response.text
    assert _letters() == letters


def test_a_get_goes_back_to_the_school(browser, school):
    response = browser.get(_url(school))
    assert response.status_code == 302
    assert response["Location"] == reverse("console:school", args=[school.uai])


def test_the_journal_shows_the_batch(browser, school, family):
    ids = [family.pupil_account.pk, family.guardian_account.pk]
    browser.post(_url(school), {"action": "reset", "comptes": ids, "prevus": ids, "confirme": "oui"})
    page = browser.get(reverse("console:journal", args=[school.uai])).text
    assert "Console : action sur une sélection de comptes" in page
    assert f"comptes réinitialisés : 2 compte(s) ({family.pupil_account.identifier}" in page
    assert "une sélection de comptes : 2 courrier(s)" in page


def test_an_empty_selection_is_a_slip_not_a_journal_line(browser, school):
    response = browser.post(_url(school), {"action": "reset"}, follow=True)
    assert "Cochez au moins un compte." in response.text
    assert not helpers.events(EventTag.CONSOLE_BATCH_REFUSED)


def test_back_on_the_list_after_an_action_no_box_is_ticked_in_advance(browser, school, family):
    ids = [family.guardian_account.pk]
    back = reverse("console:search", args=[school.uai]) + "?q=Dupont&tout=1"
    data = {"action": "disable", "comptes": ids, "prevus": ids, "confirme": "oui", "retour": back}
    response = browser.post(_url(school), data)
    assert response["Location"] == reverse("console:search", args=[school.uai]) + "?q=Dupont"
    # Another site's address is not followed.
    data = {"action": "disable", "comptes": ids, "retour": "//evil.example/console/etablissements/"}
    page = browser.post(_url(school), data).text
    assert "evil.example" not in page


def test_a_selection_with_nothing_to_do_says_so_without_a_button(browser, school, family):
    helpers.activate(family.guardian_account)
    response = browser.post(_url(school), {"action": "export", "comptes": [family.guardian_account.pk]})
    assert "Rien à faire pour les comptes cochés" in response.text
    assert "Exporter les courriers</button>" not in response.text
    assert "déjà activé" in response.text


def test_the_journal_names_ten_accounts_of_a_large_batch(browser, school):
    accounts = [helpers.family(school, last_name=f"Nom{n:02d}").pupil_account for n in range(12)]
    ids = [a.pk for a in accounts]
    browser.post(_url(school), {"action": "disable", "comptes": ids, "prevus": ids, "confirme": "oui"})
    page = browser.get(reverse("console:journal", args=[school.uai])).text
    assert "comptes désactivés : 12 compte(s)" in page
    assert "et 2 autres)" in page


def test_an_operator_cannot_mix_two_schools_of_the_academie_in_one_batch(school, family):
    neighbour = factories.school(academie=school.academie)
    other = helpers.family(neighbour, last_name="Voisin").guardian_account
    operator = helpers.console(helpers.staff(StaffRole.ACADEMIE, academie=school.academie))
    ids = [family.guardian_account.pk, other.pk]
    data = {"action": "disable", "comptes": ids, "prevus": ids, "confirme": "oui"}
    response = operator.post(_url(school), data, follow=True)
    assert "ne sont pas ceux de cet établissement" in response.text
    assert {_states()[pk] for pk in ids} == {AccountState.PROVISIONAL}
    # From the neighbour's own page, its account alone goes through.
    response = operator.post(
        reverse("console:batch", args=[neighbour.uai]),
        {"action": "disable", "comptes": [other.pk], "prevus": [other.pk], "confirme": "oui"},
    )
    assert response.status_code == 302
    assert _states()[other.pk] == AccountState.DISABLED
