"""Accounts, their links to the directory, activation letters and sessions (audit events: trousseau.audit)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trousseau.core.phones import format_mobile
from trousseau.directory.models import Guardianship, Pupil


class AccountKind(models.TextChoices):
    PUPIL = "pupil", _("Élève")
    GUARDIAN = "guardian", _("Responsable d'élève")


class AccountState(models.TextChoices):
    PROVISIONAL = "provisional", _("Provisoire")
    ACTIVE = "active", _("Actif")
    DISABLED = "disabled", _("Désactivé")


class AccountManager(BaseUserManager["Account"]):
    pass


class Account(AbstractBaseUser):
    identifier = models.CharField("identifiant", max_length=64, unique=True)
    kind = models.CharField(max_length=10, choices=AccountKind.choices)
    state = models.CharField(max_length=12, choices=AccountState.choices, default=AccountState.PROVISIONAL)
    first_name = models.CharField("prénom", max_length=100)
    last_name = models.CharField("nom", max_length=100)
    pupil = models.OneToOneField(
        "directory.Pupil", null=True, blank=True, on_delete=models.SET_NULL, related_name="account"
    )
    email = models.EmailField("email", blank=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    # A new address waits here until its link is followed: meanwhile the verified `email` stays the
    # recovery channel, so a mistyped (or an attacker's) address disables nothing.
    pending_email = models.EmailField("nouvel email à vérifier", blank=True)
    # When the last password reset link was emailed: part of every link's signature, so a newer link
    # voids the older ones (accounts.recovery.ResetTokens).
    reset_link_issued_at = models.DateTimeField(null=True, blank=True)
    # The account's own mobile (E.164), set only after a code sent to it was typed back (change_mobile).
    phone = models.CharField("téléphone portable", max_length=20, blank=True)
    phone_verified_at = models.DateTimeField(null=True, blank=True)
    # The FranceConnect `sub` (pairwise, per service) this account is linked to: next logins go straight in.
    franceconnect_sub = models.CharField("sub FranceConnect", max_length=128, unique=True, null=True, blank=True)
    # Grouping closes an account and points its identifier to the one kept.
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    activated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    USERNAME_FIELD = "identifier"
    REQUIRED_FIELDS: ClassVar[list[str]] = []
    objects = AccountManager()

    def __str__(self) -> str:
        return self.identifier

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        # Django's auth treats inactive users as logged out; provisional ones only reach activation.
        return self.state == AccountState.ACTIVE

    @property
    def phone_display(self) -> str:
        """The verified mobile as people read it: `+33 6 12 34 56 78`."""
        return format_mobile(self.phone) if self.phone else ""

    @property
    def email_verified(self) -> bool:
        return bool(self.email and self.email_verified_at)

    @property
    def phone_verified(self) -> bool:
        return bool(self.phone and self.phone_verified_at)

    def pupils(self) -> models.QuerySet[Pupil]:
        """The pupils this account speaks for: the pupil itself, or a guardian's children."""
        if self.kind == AccountKind.PUPIL:
            return Pupil.objects.filter(account=self)
        links = Guardianship.objects.filter(guardian__account_link__account=self, is_legal_representative=True).exclude(
            pk__in=ContestedLink.objects.filter(resolved_at=None).values("guardianship")
        )
        return Pupil.objects.filter(guardianships__in=links).distinct()

    def known_birth_dates(self) -> list[date]:
        return list(self.pupils().values_list("birth_date", flat=True))


class AccountGuardian(models.Model):
    """Which account speaks for a guardian record; grouping moves these rows between accounts."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="guardian_links")
    guardian = models.OneToOneField("directory.Guardian", on_delete=models.CASCADE, related_name="account_link")

    def __str__(self) -> str:
        return f"{self.account} ↔ {self.guardian}"


class ContestedLink(models.Model):
    """A family said "Je ne suis pas le représentant légal de cet élève": the school must look."""

    guardianship = models.OneToOneField("directory.Guardianship", on_delete=models.CASCADE, related_name="contest")
    reported_by = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL)
    reported_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"lien contesté {self.guardianship_id}"


class LetterStatus(models.TextChoices):
    VALID = "valid"
    EXPIRED = "expired"
    USED = "used"
    REVOKED = "revoked"
    # Too many wrong birth dates typed with it: until the school issues a new letter (a new row).
    BLOCKED = "blocked"
    # Today's share of wrong birth dates is spent: usable again once the day has passed.
    PAUSED = "paused"


BIRTH_DATE_DAY = timedelta(days=1)


class ActivationLetter(models.Model):
    """A provisional credential a school handed out: usable until it expires or the account is activated."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="letters")
    # Emptied by the retention purge RETENTION_LETTER_SECRETS after the letter ended (used or
    # expired); the dates stay for the console. An empty hash matches no password.
    password_hash = models.CharField(max_length=256)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Wrong birth dates typed with this letter (activation, or grouping its account), counted by
    # `accounts.letter_budget` under the row's lock. Logging in again with the letter refills nothing;
    # only a new letter, a new row, starts afresh.
    birth_date_failures = models.PositiveSmallIntegerField(default=0)
    # The same failures in the current day: the window opens at its first failure.
    birth_date_failures_today = models.PositiveSmallIntegerField(default=0)
    birth_date_day_began_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-issued_at", "-id"]
        indexes: ClassVar[list[models.Index]] = [
            # The retention purge looks for ended letters that still hold a hash.
            models.Index(fields=["expires_at"], condition=~models.Q(password_hash=""), name="accounts_letter_secret"),
        ]

    def __str__(self) -> str:
        return f"courrier {self.account} du {self.issued_at:%d/%m/%Y}"

    def status(self, now: datetime | None = None) -> LetterStatus:
        now = now or timezone.now()
        if self.used_at:
            return LetterStatus.USED
        if self.revoked_at:
            return LetterStatus.REVOKED
        if self.birth_date_failures >= settings.LETTER_BIRTH_DATE_FAILURES_IN_ALL:
            return LetterStatus.BLOCKED
        if now >= self.expires_at:
            return LetterStatus.EXPIRED
        if self.birth_date_failures_in_day(now) >= settings.LETTER_BIRTH_DATE_FAILURES_PER_DAY:
            return LetterStatus.PAUSED
        return LetterStatus.VALID

    def birth_date_failures_in_day(self, now: datetime) -> int:
        """The wrong birth dates of the day's window still open at `now` (none once it has passed)."""
        began = self.birth_date_day_began_at
        return self.birth_date_failures_today if began is not None and now < began + BIRTH_DATE_DAY else 0

    def birth_dates_remaining(self, now: datetime) -> int:
        """How many more wrong birth dates this letter takes today before it pauses or blocks."""
        in_all = settings.LETTER_BIRTH_DATE_FAILURES_IN_ALL - self.birth_date_failures
        today = settings.LETTER_BIRTH_DATE_FAILURES_PER_DAY - self.birth_date_failures_in_day(now)
        return max(0, min(in_all, today))

    def count_birth_date_failure(self, now: datetime) -> None:
        """One more wrong birth date; the caller holds the row's lock and saves."""
        if self.birth_date_failures_in_day(now) == 0:
            self.birth_date_day_began_at = now
            self.birth_date_failures_today = 0
        self.birth_date_failures_today += 1
        self.birth_date_failures += 1


class AccountSession(models.Model):
    """A browser session opened by a login: listed on the account page, ended by "se déconnecter partout"."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at"]

    def __str__(self) -> str:
        return f"session {self.account} {self.created_at:%Y-%m-%d %H:%M}"
