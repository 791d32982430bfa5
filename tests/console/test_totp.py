"""TOTP codes: the current step and one either side, never twice, never a malformed code."""

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from tests.codes import other_code
from trousseau.console import totp

NOW = datetime(2025, 9, 1, 8, 0, 15, tzinfo=UTC)
SECRET = totp.new_secret()


def code(offset_steps: int) -> str:
    return totp.code_at(SECRET, NOW + timedelta(seconds=30 * offset_steps))


def step(offset_steps: int) -> int:
    return int(pyotp.TOTP(SECRET).timecode(NOW)) + offset_steps


def test_secrets_are_160_bits_of_base32_and_differ():
    assert len(SECRET) == 32
    assert set(SECRET) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert totp.new_secret() != totp.new_secret()


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_the_current_code_and_its_neighbours_are_accepted(offset):
    check = totp.check_code(SECRET, code(offset), last_step=None, now=NOW)
    assert check.ok
    assert check.step == step(offset)


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_codes_outside_the_window_are_refused(offset):
    check = totp.check_code(SECRET, code(offset), last_step=None, now=NOW)
    assert not check.ok
    assert check.step is None
    assert not check.reused


def test_a_wrong_code_is_refused():
    wrong = other_code(code(0))
    assert wrong not in {code(-1), code(0), code(1)}
    assert not totp.check_code(SECRET, wrong, last_step=None, now=NOW).ok


def test_the_same_code_is_refused_the_second_time():
    first = totp.check_code(SECRET, code(0), last_step=None, now=NOW)
    assert first.ok
    again = totp.check_code(SECRET, code(0), last_step=first.step, now=NOW)
    assert not again.ok
    assert again.reused


def test_an_older_code_is_refused_once_a_later_one_served():
    later = totp.check_code(SECRET, code(1), last_step=None, now=NOW)
    assert later.ok
    earlier = totp.check_code(SECRET, code(0), last_step=later.step, now=NOW)
    assert earlier.reused
    assert totp.check_code(SECRET, code(0), last_step=later.step, now=NOW + timedelta(seconds=60)).step is None


def test_the_next_step_is_accepted_after_the_current_one():
    first = totp.check_code(SECRET, code(0), last_step=None, now=NOW)
    nxt = totp.check_code(SECRET, code(1), last_step=first.step, now=NOW + timedelta(seconds=30))
    assert nxt.ok


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_malformed_codes_are_refused(typed):
    assert not totp.check_code(SECRET, typed, last_step=None, now=NOW).ok


def test_spaces_inside_a_code_are_ignored():
    spaced = f"{code(0)[:3]} {code(0)[3:]}"
    assert totp.check_code(SECRET, spaced, last_step=None, now=NOW).ok


def test_the_provisioning_uri_names_the_issuer_and_the_qr_is_an_svg_data_uri():
    uri = totp.provisioning_uri(SECRET, "claire.martin@ac-normandie.fr")
    assert uri.startswith("otpauth://totp/")
    assert f"secret={SECRET}" in uri
    assert "issuer=Trousseau" in uri
    assert totp.qr_data_uri(uri).startswith("data:image/svg+xml")
    assert totp.grouped("ABCDEFGHIJ") == "ABCD EFGH IJ"
