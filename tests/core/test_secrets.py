"""Secrets handed to people: drawn with `secrets`, readable, and meeting the seed's rule."""

from trousseau.core.secrets import numeric_code


def test_provisional_passwords_never_start_with_a_special_character():
    from trousseau.accounts.passwords import password_problems
    from trousseau.core.secrets import READABLE_SPECIALS, provisional_password

    for _ in range(300):
        password = provisional_password()
        assert password[0] not in READABLE_SPECIALS
        assert password_problems(password) == [], password


# Chi-square critical value for 9 degrees of freedom at p ≈ 1e-6 (Wilson-Hilferty) (a uniform source fails this about once
# in a million runs per position; six positions, so the test is not flaky).
CHI2_9_DOF_P_1E6 = 46.0


def test_sms_codes_are_uniform_in_every_position():
    """security.md §7: a chi-square over 20 000 codes, each digit position 0-9 equally likely.

    A code drawn in 100000-999999 (no leading zero) or from a biased modulo fails at the first position.
    """
    n = 20_000
    counts = [[0] * 10 for _ in range(6)]
    for _ in range(n):
        code = numeric_code()
        assert len(code) == 6
        assert code.isdigit()
        for position, digit in enumerate(code):
            counts[position][int(digit)] += 1
    expected = n / 10
    for position, observed in enumerate(counts):
        chi2 = sum((seen - expected) ** 2 / expected for seen in observed)
        assert chi2 < CHI2_9_DOF_P_1E6, f"position {position}: chi2={chi2:.1f}, counts={observed}"


# Chi-square critical value for 35 degrees of freedom at p ≈ 1e-6 (Wilson-Hilferty).
CHI2_35_DOF_P_1E6 = 90.5


def test_random_strings_are_uniform_over_their_alphabet():
    """Session keys: 36 characters, and 256 is no multiple of 36. Taking `byte % 36` of every byte would
    favour the first four characters by 8 to 7 (a chi-square in the hundreds here); rejected bytes keep
    every character equally likely."""
    from django.contrib.sessions.backends.base import VALID_KEY_CHARS

    from trousseau.core.secrets import random_string

    counts = dict.fromkeys(VALID_KEY_CHARS, 0)
    keys = 6_250
    for _ in range(keys):
        key = random_string(32, VALID_KEY_CHARS)
        assert len(key) == 32
        for char in key:
            counts[char] += 1
    expected = keys * 32 / len(VALID_KEY_CHARS)
    chi2 = sum((count - expected) ** 2 / expected for count in counts.values())
    assert chi2 < CHI2_35_DOF_P_1E6, counts


def test_a_random_string_needs_an_alphabet_of_one_to_256_characters():
    import pytest

    from trousseau.core.secrets import random_string

    assert random_string(5, "a") == "aaaaa"
    for alphabet in ("", "x" * 257):
        with pytest.raises(ValueError, match="alphabet"):
            random_string(8, alphabet)
