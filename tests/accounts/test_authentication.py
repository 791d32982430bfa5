from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from tests import factories
from trousseau.accounts import authentication as auth
from trousseau.accounts.models import Account, AccountState, ActivationLetter, LetterStatus
from trousseau.accounts.services import letter_issue
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.core.refusals import Throttled, WrongCredentials

pytestmark = pytest.mark.django_db
IP = "198.51.100.7"


def activate(account: Account, password: str = factories.GOOD_PASSWORD) -> Account:
    account.set_password(password)
    account.state = AccountState.ACTIVE
    account.save()
    account.letters.update(used_at=timezone.now())
    return account


def test_a_valid_letter_leads_to_activation_not_to_a_session():
    account, letter, password = factories.guardian_account()
    outcome = auth.authenticate(identifier=account.identifier, password=password, ip=IP)
    assert outcome == auth.ProvisionalLetter(account, letter)
    assert AuditEvent.objects.filter(tag=EventTag.LOGIN_PROVISIONAL, account=account).exists()


def test_identifier_is_forgiving_of_case_and_spaces():
    account, _, password = factories.guardian_account()
    outcome = auth.authenticate(identifier=f"  {account.identifier.upper()} ", password=password, ip=IP)
    assert isinstance(outcome, auth.ProvisionalLetter)


def test_active_account_logs_in_with_its_password():
    account = activate(factories.guardian_account()[0])
    assert auth.authenticate(identifier=account.identifier, password=factories.GOOD_PASSWORD, ip=IP) == auth.LoggedIn(
        account
    )
    assert AuditEvent.objects.filter(tag=EventTag.LOGIN_SUCCESS, account=account, ip_address=IP).exists()


def test_unknown_identifier_and_wrong_password_look_the_same():
    account = activate(factories.guardian_account()[0])
    assert auth.authenticate(identifier="nobody.here99", password="x", ip=IP) == WrongCredentials()
    assert auth.authenticate(identifier=account.identifier, password="wrong", ip=IP) == WrongCredentials()
    assert AuditEvent.objects.filter(tag=EventTag.LOGIN_FAILURE).count() == 2


def test_expired_letter_is_told_only_to_its_holder():
    account, letter, password = factories.guardian_account()
    letter.expires_at = timezone.now() - timedelta(seconds=1)
    letter.save()
    assert auth.authenticate(identifier=account.identifier, password=password, ip=IP) == auth.LetterUnusable(
        LetterStatus.EXPIRED
    )
    assert auth.authenticate(identifier=account.identifier, password="not-the-letter", ip=IP) == WrongCredentials()


def test_used_letter_is_recognised_after_activation():
    account, _, password = factories.guardian_account()
    activate(account)
    assert auth.authenticate(identifier=account.identifier, password=password, ip=IP) == auth.LetterUnusable(
        LetterStatus.USED
    )


def test_reissued_letter_revokes_the_previous_one():
    account, _, old_password = factories.guardian_account()
    _, new_password = letter_issue(account=account)
    assert auth.authenticate(identifier=account.identifier, password=old_password, ip=IP) == WrongCredentials()
    assert isinstance(
        auth.authenticate(identifier=account.identifier, password=new_password, ip=IP), auth.ProvisionalLetter
    )


def test_disabled_account_is_refused_even_with_the_right_password():
    account = activate(factories.guardian_account()[0])
    account.state = AccountState.DISABLED
    account.save()
    assert auth.authenticate(identifier=account.identifier, password=factories.GOOD_PASSWORD, ip=IP) == auth.Disabled()


def test_repeated_failures_throttle_the_identifier_even_with_the_right_password(settings):
    account = activate(factories.guardian_account()[0])
    for _ in range(settings.THROTTLE_ACCOUNT_FREE_FAILURES + 1):
        auth.authenticate(identifier=account.identifier, password="wrong", ip=IP)
    outcome = auth.authenticate(identifier=account.identifier, password=factories.GOOD_PASSWORD, ip=IP)
    assert isinstance(outcome, Throttled)
    assert outcome.minutes >= 1
    assert AuditEvent.objects.filter(tag=EventTag.LOGIN_THROTTLED).exists()


def test_unknown_identifiers_are_throttled_like_known_ones(settings):
    for _ in range(settings.THROTTLE_ACCOUNT_FREE_FAILURES + 1):
        auth.authenticate(identifier="ghost.name11", password="wrong", ip=IP)
    assert isinstance(auth.authenticate(identifier="ghost.name11", password="x", ip=IP), Throttled)


def test_one_address_guessing_many_identifiers_is_throttled(settings):
    settings.THROTTLE_IP_FREE_FAILURES = 3
    for n in range(4):
        auth.authenticate(identifier=f"someone.{n}", password="wrong", ip=IP)
    assert isinstance(auth.authenticate(identifier="other.1", password="x", ip=IP), Throttled)
    assert auth.authenticate(identifier="other.1", password="x", ip="203.0.113.9") == WrongCredentials()


def test_success_resets_the_account_counter(settings):
    account = activate(factories.guardian_account()[0])
    for _ in range(settings.THROTTLE_ACCOUNT_FREE_FAILURES):
        auth.authenticate(identifier=account.identifier, password="wrong", ip=IP)
    assert isinstance(
        auth.authenticate(identifier=account.identifier, password=factories.GOOD_PASSWORD, ip=IP), auth.LoggedIn
    )
    assert auth.authenticate(identifier=account.identifier, password="wrong", ip=IP) == WrongCredentials()


def test_password_hashed_with_old_parameters_is_rehashed_at_login():
    account = activate(factories.guardian_account()[0])
    from django.contrib.auth.hashers import Argon2PasswordHasher

    class Weak(Argon2PasswordHasher):
        memory_cost = 1024

    account.password = Weak().encode(factories.GOOD_PASSWORD, Weak().salt())
    account.save()
    assert "m=1024" in account.password
    assert isinstance(
        auth.authenticate(identifier=account.identifier, password=factories.GOOD_PASSWORD, ip=IP), auth.LoggedIn
    )
    account.refresh_from_db()
    assert "m=19456,t=2,p=1" in account.password


def test_letters_are_stored_hashed():
    _, letter, password = factories.guardian_account()
    assert password not in letter.password_hash
    assert letter.password_hash.startswith("argon2$argon2id$")
    assert make_password(password) != letter.password_hash


@pytest.fixture
def verifications(monkeypatch):
    """Counts argon2 verifications (the cost that timing would reveal)."""
    from trousseau.accounts.hashers import TrousseauArgon2Hasher

    counted = [0]
    original = TrousseauArgon2Hasher.verify

    def verify(self, password, encoded):
        counted[0] += 1
        return original(self, password, encoded)

    monkeypatch.setattr(TrousseauArgon2Hasher, "verify", verify)
    return counted


def _cost(verifications: list[int], identifier: str, password: str) -> int:
    before = verifications[0]
    outcome = auth.authenticate(identifier=identifier, password=password, ip=IP)
    assert isinstance(outcome, WrongCredentials | auth.Disabled), outcome
    return verifications[0] - before


def test_every_refusal_costs_the_same_whatever_the_identifier(verifications):
    """Unknown, letter not yet used, active with a spent letter, active without letter, disabled,
    grouped: the same number of argon2 verifications, so timing does not tell them apart (check 4)."""
    provisional = factories.guardian_account()[0]
    active_with_spent_letter = activate(factories.guardian_account()[0])
    active_without_letter = activate(factories.guardian_account()[0])
    active_without_letter.letters.all().delete()
    disabled = activate(factories.guardian_account()[0])
    Account.objects.filter(pk=disabled.pk).update(state=AccountState.DISABLED)
    kept, grouped = activate(factories.guardian_account()[0]), activate(factories.guardian_account()[0])
    Account.objects.filter(pk=grouped.pk).update(merged_into=kept)
    costs = {
        "unknown": _cost(verifications, "nobody.here99", "Wrong#Pass1"),
        "provisional": _cost(verifications, provisional.identifier, "Wrong#Pass1"),
        "spent letter": _cost(verifications, active_with_spent_letter.identifier, "Wrong#Pass1"),
        "no letter": _cost(verifications, active_without_letter.identifier, "Wrong#Pass1"),
        "disabled, wrong": _cost(verifications, disabled.identifier, "Wrong#Pass1"),
        "disabled, right": _cost(verifications, disabled.identifier, factories.GOOD_PASSWORD),
        "grouped": _cost(verifications, grouped.identifier, "Wrong#Pass1"),
    }
    assert set(costs.values()) == {auth.VERIFICATIONS_PER_REFUSAL}, costs


def test_a_hundred_failures_in_a_row_lock_the_identifier_until_a_recovery(settings):
    """Growing delays alone allow ~100 guesses a day for ever; past the hard limit, only a recovery
    opens the identifier again (NIST 800-63B §3.2.2; security.md §7 check 5)."""
    from trousseau.accounts.recovery import account_reset_password
    from trousseau.core import throttle
    from trousseau.core.models import ThrottleCounter

    settings.THROTTLE_ACCOUNT_HARD_LIMIT = 8
    account = activate(factories.guardian_account()[0])
    guard = auth.login_guards(account.identifier, IP)[0]
    for n in range(8):
        # Each delay has passed (the guessing is slow, not stopped, until the hard limit).
        ThrottleCounter.objects.filter(key=guard.key).update(blocked_until=None)
        assert (
            auth.authenticate(identifier=account.identifier, password=f"Wrong#{n}x", ip=f"203.0.113.{n}")
            == WrongCredentials()
        )
    wait = throttle.wait_time([guard])
    assert wait is not None
    assert throttle.is_locked(wait)
    right = auth.authenticate(identifier=account.identifier, password=factories.GOOD_PASSWORD, ip="198.51.100.1")
    assert right == auth.Locked()
    unknown = "personne.inconnue77"  # an unknown identifier locks the same way: nothing is revealed
    unknown_guard = auth.login_guards(unknown, IP)[0]
    for n in range(8):
        ThrottleCounter.objects.filter(key=unknown_guard.key).update(blocked_until=None)
        auth.authenticate(identifier=unknown, password=f"Wrong#{n}x", ip=f"203.0.114.{n}")
    assert auth.authenticate(identifier=unknown, password="x", ip="198.51.100.2") == auth.Locked()
    # A recovery (the lost-password journey, or the school's reset) opens it again.
    account_reset_password(account=account, password="Trousse#Neuve42", ip=IP)
    throttle.reset(guard)
    assert isinstance(
        auth.authenticate(identifier=account.identifier, password="Trousse#Neuve42", ip=IP), auth.LoggedIn
    )


def test_the_mire_tells_a_locked_identifier_how_to_get_out(client, settings):
    settings.THROTTLE_ACCOUNT_HARD_LIMIT = 1
    settings.THROTTLE_ACCOUNT_FREE_FAILURES = 0
    data = {"identifier": "quelqu.un12", "password": "Wrong#1x", "profile": "responsable"}
    client.post("/login", data)
    page = client.post("/login", data)
    assert "il est bloqué" in page.text
    assert "Mot de passe perdu" in page.text


def test_a_letter_whose_hash_retention_erased_is_a_plain_failure_at_the_same_cost(verifications):
    """The purge empties the hash of letters long used or expired: their password then opens nothing,
    says nothing about the letter, and costs what any refusal costs."""
    used_account, _, used_password = factories.guardian_account()
    activate(used_account)
    expired_account, expired_letter, expired_password = factories.guardian_account()
    expired_letter.expires_at = timezone.now() - timedelta(days=1)
    expired_letter.save()
    ActivationLetter.objects.filter(account__in=[used_account, expired_account]).update(password_hash="")
    for account, password in ((used_account, used_password), (expired_account, expired_password)):
        before = verifications[0]
        assert auth.authenticate(identifier=account.identifier, password=password, ip=IP) == WrongCredentials()
        assert verifications[0] - before == auth.VERIFICATIONS_PER_REFUSAL


def test_the_trail_keeps_a_typed_identifier_but_not_an_email_a_phone_or_a_password_typed_instead():
    typed = {
        "j.dupont12": "j.dupont12",
        "Lea.Martin@Exemple.fr": "l•••@exemple.fr",
        "06 12 34 56 78": None,
        "Cartable#Violet42": None,
    }
    for raw, kept in typed.items():
        auth.authenticate(identifier=raw, password="Wrong#Pass1", ip=IP)
        event = AuditEvent.objects.filter(tag=EventTag.LOGIN_FAILURE).latest("pk")
        if kept is not None:
            assert event.data["identifier"] == kept
        else:
            assert event.data["identifier"].startswith("#")
            assert raw.lower() not in event.data["identifier"]
            assert "12 34" not in event.data["identifier"]
    digests = AuditEvent.objects.filter(tag=EventTag.LOGIN_FAILURE, data__identifier__startswith="#")
    assert len({event.data["identifier"] for event in digests}) == 2
    auth.authenticate(identifier="06 12 34 56 78", password="Wrong#Pass1", ip=IP)  # the same typing groups
    assert len({e.data["identifier"] for e in digests.all()}) == 2
