"""Secrets handed to people: drawn with `secrets`, readable, and meeting the seed's rule."""


def test_provisional_passwords_never_start_with_a_special_character():
    from trousseau.accounts.passwords import password_problems
    from trousseau.core.secrets import READABLE_SPECIALS, provisional_password

    for _ in range(300):
        password = provisional_password()
        assert password[0] not in READABLE_SPECIALS
        assert password_problems(password) == [], password
