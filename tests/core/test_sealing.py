"""Secrets sealed at rest: the clear value never reaches the database, keys rotate, tampering shows."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from tests.console import helpers
from trousseau.console import totp
from trousseau.console.models import StaffMember, StaffRole
from trousseau.core import sealing


def test_a_sealed_value_opens_only_for_its_purpose():
    sealed = sealing.seal("JBSWY3DPEHPK3PXP", purpose="console.totp")
    assert sealed.startswith("s1:")
    assert "JBSWY3DPEHPK3PXP" not in sealed
    assert sealing.seal("JBSWY3DPEHPK3PXP", purpose="console.totp") != sealed  # a fresh nonce each time
    assert sealing.unseal(sealed, purpose="console.totp") == "JBSWY3DPEHPK3PXP"
    with pytest.raises(sealing.Unsealable):
        sealing.unseal(sealed, purpose="accounts.phone")


def test_an_altered_value_does_not_open():
    sealed = sealing.seal("secret", purpose="p")
    body = sealed[-10:]
    flipped = sealed[:-10] + ("A" if body[0] != "A" else "B") + body[1:]
    with pytest.raises(sealing.Unsealable):
        sealing.unseal(flipped, purpose="p")
    with pytest.raises(sealing.Unsealable):
        sealing.unseal("s1:nothing", purpose="p")


def test_keys_rotate_the_first_seals_every_one_opens(settings):
    old, new = sealing.new_key(), sealing.new_key()
    settings.SEALING_KEYS = [old]
    before = sealing.seal("secret", purpose="p")
    settings.SEALING_KEYS = [new, old]
    assert sealing.unseal(before, purpose="p") == "secret"
    after = sealing.seal("secret", purpose="p")
    assert after.split(":")[1] != before.split(":")[1]
    settings.SEALING_KEYS = [new]
    assert sealing.unseal(after, purpose="p") == "secret"
    with pytest.raises(sealing.Unsealable):
        sealing.unseal(before, purpose="p")  # the old key is gone


def test_a_malformed_key_is_a_configuration_error(settings):
    settings.SEALING_KEYS = ["dG9vIHNob3J0"]
    with pytest.raises(ImproperlyConfigured):
        sealing.seal("x", purpose="p")


@pytest.mark.django_db
def test_a_staff_totp_seed_is_sealed_in_the_database():
    secret = totp.new_secret()
    member = helpers.staff(StaffRole.ACADEMIE, totp_secret=secret)
    with connection.cursor() as cursor:
        cursor.execute("SELECT totp_secret FROM console_staffmember WHERE id = %s", [member.pk])
        [stored] = cursor.fetchone()
    assert stored.startswith("s1:")
    assert secret not in stored
    assert StaffMember.objects.get(pk=member.pk).totp_secret == secret


@pytest.mark.django_db
def test_a_seed_written_before_sealing_still_reads_and_is_sealed_when_saved_again():
    member = helpers.staff(StaffRole.ACADEMIE)
    legacy = totp.new_secret()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE console_staffmember SET totp_secret = %s WHERE id = %s", [legacy, member.pk])
    assert StaffMember.objects.get(pk=member.pk).totp_secret == legacy
    StaffMember.objects.filter(pk=member.pk).update(totp_secret=legacy)  # what the migration does
    with connection.cursor() as cursor:
        cursor.execute("SELECT totp_secret FROM console_staffmember WHERE id = %s", [member.pk])
        assert cursor.fetchone()[0].startswith("s1:")
