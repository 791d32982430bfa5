"""The budget of wrong birth dates per letter (issue #15, findings 2 and 6): accounts.letter_budget."""

import html
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone, translation

from tests import factories
from tests.accounts.helpers import IP
from trousseau.accounts import authentication as auth
from trousseau.accounts.exceptions import BirthDateMismatch, LetterBudgetSpent
from trousseau.accounts.letter_budget import letter_birth_date_check
from trousseau.accounts.models import ActivationLetter, LetterStatus
from trousseau.accounts.services import letter_issue
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.core.refusals import WrongCredentials

pytestmark = pytest.mark.django_db
BORN = date(2012, 3, 14)  # the factories' pupils
WRONG = date(1999, 1, 1)


def check(letter: ActivationLetter, birth_date: date = WRONG) -> None:
    letter_birth_date_check(letter_id=letter.pk, birth_date=birth_date, ip=IP, step="activation")


def wrong(letter: ActivationLetter) -> BirthDateMismatch:
    with pytest.raises(BirthDateMismatch) as caught:
        check(letter)
    return caught.value


def a_day_passes(letter: ActivationLetter) -> None:
    letter.refresh_from_db()
    assert letter.birth_date_day_began_at is not None
    letter.birth_date_day_began_at -= timedelta(days=1)
    letter.save(update_fields=["birth_date_day_began_at"])


def test_a_right_birth_date_passes_and_counts_nothing():
    _, letter, _ = factories.guardian_account()
    check(letter, BORN)
    letter.refresh_from_db()
    assert letter.birth_date_failures == 0
    assert not AuditEvent.objects.filter(tag=EventTag.LETTER_BIRTH_DATE_FAILURE).exists()


def test_each_wrong_date_is_counted_on_the_letter_and_audited(settings):
    account, letter, _ = factories.guardian_account()
    first = wrong(letter)
    assert (first.remaining, first.status) == (settings.LETTER_BIRTH_DATE_FAILURES_PER_DAY - 1, LetterStatus.VALID)
    letter.refresh_from_db()
    assert (letter.birth_date_failures, letter.birth_date_failures_today) == (1, 1)
    event = AuditEvent.objects.get(tag=EventTag.LETTER_BIRTH_DATE_FAILURE)
    assert event.account == account
    assert event.data == {"step": "activation", "letter_id": letter.pk, "failures": 1}


def test_the_days_share_pauses_the_letter_until_the_next_day(settings):
    _, letter, _ = factories.guardian_account()
    for _ in range(settings.LETTER_BIRTH_DATE_FAILURES_PER_DAY - 1):
        wrong(letter)
    last = wrong(letter)
    assert (last.remaining, last.status) == (0, LetterStatus.PAUSED)
    # Spent: even the right date is not compared, and the refusal is audited.
    with pytest.raises(LetterBudgetSpent) as spent:
        check(letter, BORN)
    assert spent.value.status == LetterStatus.PAUSED
    assert AuditEvent.objects.filter(tag=EventTag.LETTER_BIRTH_DATE_REFUSED, data__status="paused").exists()
    a_day_passes(letter)
    letter.refresh_from_db()
    assert letter.status() == LetterStatus.VALID
    check(letter, BORN)


def test_the_total_blocks_the_letter_for_good(settings):
    account, letter, _ = factories.guardian_account()
    for _ in range(settings.LETTER_BIRTH_DATE_FAILURES_PER_DAY):
        wrong(letter)
    a_day_passes(letter)
    for _ in range(settings.LETTER_BIRTH_DATE_FAILURES_IN_ALL - settings.LETTER_BIRTH_DATE_FAILURES_PER_DAY - 1):
        wrong(letter)
    assert wrong(letter).status == LetterStatus.BLOCKED
    assert AuditEvent.objects.filter(tag=EventTag.LETTER_BLOCKED, account=account).count() == 1
    a_day_passes(letter)
    with pytest.raises(LetterBudgetSpent) as spent:
        check(letter, BORN)
    assert spent.value.status == LetterStatus.BLOCKED


def test_blocked_even_before_its_expiry_is_told_as_blocked(settings):
    _, letter, _ = factories.guardian_account()
    letter.birth_date_failures = settings.LETTER_BIRTH_DATE_FAILURES_IN_ALL
    letter.expires_at = timezone.now() - timedelta(days=1)
    assert letter.status() == LetterStatus.BLOCKED


def test_a_login_with_the_letter_refills_nothing(settings):
    account, letter, password = factories.guardian_account()
    for _ in range(settings.LETTER_BIRTH_DATE_FAILURES_PER_DAY):
        wrong(letter)
    # The right letter password no longer opens the activation: it says why, and only to its holder.
    assert auth.authenticate(identifier=account.identifier, password=password, ip=IP) == auth.LetterUnusable(
        LetterStatus.PAUSED
    )
    assert auth.authenticate(identifier=account.identifier, password="Wrong#Pass99", ip=IP) == WrongCredentials()
    letter.refresh_from_db()
    assert letter.birth_date_failures == settings.LETTER_BIRTH_DATE_FAILURES_PER_DAY


def test_a_new_letter_from_the_school_starts_afresh(settings):
    account, letter, _ = factories.guardian_account()
    letter.birth_date_failures = settings.LETTER_BIRTH_DATE_FAILURES_IN_ALL
    letter.save()
    new, password = letter_issue(account=account)
    assert new.status() == LetterStatus.VALID
    assert auth.authenticate(identifier=account.identifier, password=password, ip=IP) == auth.ProvisionalLetter(
        account, new
    )
    check(new, BORN)


def test_the_budget_is_the_letters_not_the_accounts(settings):
    _, letter, _ = factories.guardian_account()
    for _ in range(settings.LETTER_BIRTH_DATE_FAILURES_PER_DAY):
        wrong(letter)
    _, other_letter, _ = factories.guardian_account()
    check(other_letter, BORN)
    assert other_letter.status() == LetterStatus.VALID


@pytest.mark.django_db(transaction=True)
def test_thirty_concurrent_wrong_dates_are_compared_at_most_the_days_share(settings):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs a server database")
    _, letter, _ = factories.guardian_account()

    def guess(n: int) -> str:
        try:
            check(letter, WRONG + timedelta(days=n))
        except BirthDateMismatch:
            return "compared"
        except LetterBudgetSpent:
            return "spent"
        finally:
            connections.close_all()
        return "passed"

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(guess, range(30)))
    assert answers.count("compared") == settings.LETTER_BIRTH_DATE_FAILURES_PER_DAY
    assert answers.count("spent") == 30 - settings.LETTER_BIRTH_DATE_FAILURES_PER_DAY
    letter.refresh_from_db()
    assert letter.birth_date_failures == settings.LETTER_BIRTH_DATE_FAILURES_PER_DAY


def test_the_mire_tells_a_blocked_letter_in_both_languages(client, settings):
    account, letter, password = factories.guardian_account()
    letter.birth_date_failures = settings.LETTER_BIRTH_DATE_FAILURES_IN_ALL
    letter.save()
    data = {"identifier": account.identifier, "password": password}
    french = html.unescape(client.post(reverse("flows:login"), data).text)
    assert "Trop de dates de naissance erronées ont été saisies avec ce courrier : il est bloqué." in french
    english = client.post(reverse("flows:login"), data, headers={"Accept-Language": "en"}).text
    assert "Too many wrong dates of birth were typed with this letter: it is blocked." in english
    translation.deactivate()
