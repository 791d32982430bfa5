import pytest

from tests import factories
from trousseau.accounts.identifiers import identifier_base, new_identifier, normalize_identifier

pytestmark = pytest.mark.django_db


def test_identifier_base_folds_accents_spaces_and_apostrophes():
    assert identifier_base("Élodie", "N'Diaye") == "e.ndiaye"
    assert identifier_base("Jean-Luc", "Le Gall-Moreau") == "j.legallmoreau"


def test_new_identifiers_are_initial_dot_name_digits_and_unique():
    seen = {new_identifier("Léa", "Dupont") for _ in range(30)}
    assert all(i.startswith("l.dupont") and i[len("l.dupont") :].isdigit() for i in seen)
    account, _, _ = factories.guardian_account()
    assert new_identifier(account.first_name, account.last_name) != account.identifier


def test_normalize_forgives_spaces_and_capitals():
    assert normalize_identifier("  J.Dupont12 ") == "j.dupont12"
