"""The import's preview, read per class: who arrives, who leaves, what changes (old -> new), who has no mobile."""

import pytest
from django.urls import reverse

from tests.console.test_imports import confirm_url, upload
from trousseau.directory.importers.report import Arrival, Change, ImportResult, result_from_json, result_to_json

pytestmark = pytest.mark.django_db
HEADER = "INE;NOM;PRENOM;DATE_NAISS;CLASSE;UAI"
GUARDIANS_HEADER = "ID_RESPONSABLE;NOM;PRENOM;TEL_PORTABLE;COURRIEL;INE_ELEVE;RESP_LEGAL"


def check(browser, school, *, pupils, guardians, mode="additions"):
    files = {"pupils": upload("eleves.csv", pupils), "guardians": upload("responsables.csv", guardians)}
    return browser.post(reverse("console:import", args=[school.uai]), {**files, "mode": mode}, follow=True)


def test_the_preview_names_arrivals_departures_and_changes_per_class(browser, school, member):
    first = check(
        browser,
        school,
        pupils=[HEADER, "100000001AB;Dupont;Léa;14/03/2012;5e B;", "100000002AB;Martin;Hugo;02/05/2012;5e B;"],
        guardians=[GUARDIANS_HEADER, "R1;Dupont;Sophie;06 12 34 56 78;;100000001AB;1"],
    )
    assert "Aucune erreur" in first.text
    # Nothing imported yet: everyone arrives, and Sophie's mobile is there.
    assert "Arrivent" in first.text
    assert "sans portable" not in first.text
    browser.post(confirm_url(first.text), follow=True)

    second = check(
        browser,
        school,
        pupils=[
            HEADER,
            "100000001AB;Dupont;Léa;14/03/2012;4e A;",  # changes class
            "100000003AB;Petit;Zoé;01/09/2012;4e A;",  # arrives
        ],  # Hugo Martin (5e B) is no longer listed
        guardians=[GUARDIANS_HEADER, "R1;Dupont;Sophie;;;100000001AB;1", "R3;Petit;Anne;;;100000003AB;1"],
        mode="complete",
    )
    page = second.text
    assert "Par classe : arrivées, départs et changements" in page
    assert 'data-class="4e A"' in page
    assert "Zoé Petit — élève" in page
    assert "Léa Dupont — CLASSE : « 5e B » → « 4e A »" in page
    assert "Sophie Dupont — TEL_PORTABLE : « +33612345678 » → « — »" in page
    assert "Anne Petit — responsable, <strong>sans portable</strong>" in page
    assert "2 responsables sans portable enregistré" in page
    assert 'data-class="5e B"' in page  # Hugo leaves from his class
    assert "Hugo Martin" in page


def test_the_named_lists_survive_the_jobs_json():
    result = ImportResult(dry_run=True)
    result.name_arrival(Arrival("responsables", "Petit", "Anne", "4e A", mobile=False))
    result.name_change(Change("eleves", "Dupont", "Léa", "4e A", "CLASSE", "5e B", "4e A"))
    again = result_from_json(result_to_json(result))
    assert again.arriving == result.arriving
    assert again.changes == result.changes
    assert again.without_mobile == [Arrival("responsables", "Petit", "Anne", "4e A", mobile=False)]


def test_a_refused_pupil_is_named_and_brings_no_follow_on_error(browser, school, member):
    page = check(
        browser,
        school,
        pupils=[HEADER, "100000001AB;Tanguy;Éloïse;30/02/2014;6e A;", "100000002AB;Martin;Hugo;02/05/2012;6e A;"],
        guardians=[GUARDIANS_HEADER, "R1;Tanguy;Anne;06 12 34 56 78;;100000001AB;1", "R2;Roux;Paul;;;999999999ZZ;1"],
    ).text
    assert "Éloïse TANGUY" in page  # the refused row names its pupil
    assert "30/02/2014" in page
    # Anne Tanguy's link to the refused pupil adds no "élève inconnu"; Paul Roux's to nobody does.
    assert page.count("Élève inconnu") == 1
    assert "Paul ROUX" in page
