from datetime import date

import pytest

from trousseau.accounts.passwords import password_problems
from trousseau.core.refusals import WrongCredentials


def test_a_password_meeting_the_seed_rule_is_accepted():
    assert password_problems("Cartable#Violet42") == []


@pytest.mark.parametrize(
    ("password", "missing"),
    [
        ("cartable#violet42", "majuscule"),
        ("CARTABLE#VIOLET42", "minuscule"),
        ("Cartable#Violet", "chiffre"),
        ("CartableViolet42", "caractère spécial"),
        ("Ca#te42", "8 caractères"),
    ],
)
def test_each_composition_rule_is_enforced(password, missing):
    problems = password_problems(password)
    assert any(missing in p for p in problems), problems


def test_specials_outside_the_seed_list_are_allowed_but_do_not_count():
    assert password_problems("Cartable€Violet42") == [
        "Doit contenir 1 caractère spécial parmi ! ? @ # $ % & ' ( ) * + , - . : ;"
    ]
    assert password_problems("Cartable€Violet42!") == []


def test_common_passwords_are_refused():
    assert "Ce mot de passe est trop courant" in password_problems("Password1!")


def test_identifier_and_names_are_refused_whatever_the_accents():
    problems = password_problems("J.Dupont12!x", identifier="j.dupont12")
    assert "Ne doit contenir ni votre identifiant ni votre nom ou prénom" in problems
    problems = password_problems("Elodie#2024xx", names=("Élodie", "Martin"))
    assert "Ne doit contenir ni votre identifiant ni votre nom ou prénom" in problems


def test_birth_dates_are_refused_in_common_forms():
    for password in ("Cartable#14032012", "Cartable#20120314", "Cart#14/03/12"):
        assert "Ne doit pas contenir de date de naissance" in password_problems(
            password, birth_dates=(date(2012, 3, 14),)
        ), password


def test_overlong_and_unprintable_passwords_are_refused():
    assert any("maximum" in p for p in password_problems("Aa1!" + "x" * 200))
    assert "Ne doit contenir que des caractères imprimables" in password_problems("Cartable#Violet42\x00")


@pytest.mark.parametrize(
    "password", ["Educonnect2024!", "ÉduConnect#12", "Trousseau#2026", "Pronote!2025a", "Azerty123!"]
)
def test_the_services_own_names_are_refused(password):
    """What an attacker of this service tries first (security.md §7 check 1)."""
    assert "Ce mot de passe est trop courant" in password_problems(password)


@pytest.mark.parametrize(
    "password",
    [
        "Mon cartable est très lourd, 3 fois !",  # a long passphrase with spaces and accents
        "Été 2026 : je range mes crayons.",
        "Cartable€Violet42!",  # any printable symbol is welcome
        "Ğüzel-Şehir#2026",
    ],
)
def test_long_unicode_passphrases_meeting_the_rule_are_accepted(password):
    assert password_problems(password) == []


@pytest.mark.django_db
def test_the_password_is_matched_exactly(settings):
    """No truncation, no case folding, no trimming (check 2)."""
    from tests import factories
    from trousseau.accounts import authentication as auth
    from trousseau.accounts.models import AccountState

    settings.THROTTLE_ACCOUNT_FREE_FAILURES = 100
    password = "Cartable#Violet42 " + "x" * 82  # 100 characters, one of them a space
    account, _, _ = factories.guardian_account()
    account.set_password(password)
    account.state = AccountState.ACTIVE
    account.save()
    near_misses = [password[:72], password[0].lower() + password[1:], password + " ", password.rstrip("x")]
    for attempt in near_misses:
        assert (
            auth.authenticate(identifier=account.identifier, password=attempt, ip="203.0.113.5") == WrongCredentials()
        )
    assert isinstance(
        auth.authenticate(identifier=account.identifier, password=password, ip="203.0.113.5"), auth.LoggedIn
    )
