"""School staff: their own accounts and roles, apart from the families' `Account`s."""

from __future__ import annotations

import uuid

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trousseau.core.sealing import SealedTextField
from trousseau.directory.models import SchoolLevel


class StaffRole(models.TextChoices):
    ACADEMIE = "academie", _("Opérateur académique")
    HEAD = "head", _("Chef d'établissement")
    SECRETARIAT = "secretariat", _("Secrétariat")
    READONLY = "readonly", _("Lecture seule")


class StaffMember(models.Model):
    """A person who works in the console: an académie operator, a head of school, a secretary, a reader.

    Operators see every school of their académie; the others see their school (a reader may instead be
    given a whole académie). Login is an argon2 password plus a TOTP code; `totp_last_step` is the
    time step of the last code accepted, so the same code never opens two sessions.
    """

    email = models.EmailField("email", unique=True)
    first_name = models.CharField("prénom", max_length=100)
    last_name = models.CharField("nom", max_length=100)
    role = models.CharField("rôle", max_length=12, choices=StaffRole.choices)
    academie = models.CharField("académie", max_length=100, blank=True)
    school = models.ForeignKey(
        "directory.School", null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    password = models.CharField(max_length=256, blank=True)
    totp_secret = SealedTextField(blank=True, purpose="console.staffmember.totp_secret")  # sealed at rest
    totp_confirmed_at = models.DateTimeField(null=True, blank=True)
    totp_last_step = models.BigIntegerField(null=True, blank=True)
    # One-time enrolment link: its keyed digest (core.secrets.keyed_digest), never the token itself.
    enrolment_digest = models.CharField(max_length=64, blank=True, db_index=True)
    enrolment_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField("actif", default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "personnel"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="academie") | ~models.Q(academie=""), name="operator_has_academie"
            ),
            models.CheckConstraint(
                condition=models.Q(role="academie") | models.Q(role="readonly") | models.Q(school__isnull=False),
                name="school_staff_have_school",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} <{self.email}>"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def role_label(self) -> str:
        """The role as the person's school names it: an école has a director, not a "chef d'établissement"."""
        if self.role == StaffRole.HEAD and self.school is not None and self.school.level == SchoolLevel.ECOLE:
            return str(_("Directeur ou directrice d'école"))
        return str(self.get_role_display())

    @property
    def can_act(self) -> bool:
        """Every role but read-only may change accounts, print letters and import."""
        return self.role != StaffRole.READONLY

    @property
    def enrolled(self) -> bool:
        return bool(self.password and self.totp_secret and self.totp_confirmed_at)

    def set_password(self, raw: str) -> None:
        self.password = make_password(raw)

    def check_password(self, raw: str) -> bool:
        def rehash(new: str) -> None:
            self.set_password(new)
            self.save(update_fields=["password"])

        return bool(self.password) and check_password(raw, self.password, rehash)

    def clean(self) -> None:
        if self.role == StaffRole.ACADEMIE and not self.academie:
            raise ValidationError({"academie": _("Un opérateur académique a une académie.")})
        if self.role in {StaffRole.HEAD, StaffRole.SECRETARIAT} and self.school_id is None:
            raise ValidationError({"school": _("Ce rôle s'exerce dans un établissement.")})
        if self.role == StaffRole.READONLY and self.school_id is None and not self.academie:
            raise ValidationError(
                {"school": _("Un accès en lecture seule porte sur un établissement ou une académie.")}
            )


class PendingImport(models.Model):
    """Files a staff member checked (dry run) and may now confirm: kept in the database, not on one
    web process's disk, so the confirmation may reach any process. Deleted once applied or stale."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey("directory.School", on_delete=models.CASCADE, related_name="+")
    pupils = models.BinaryField(null=True, blank=True)
    pupils_name = models.CharField(max_length=200, blank=True)
    guardians = models.BinaryField(null=True, blank=True)
    guardians_name = models.CharField(max_length=200, blank=True)
    # What the person said the files are: "complete" (the school's whole list) or "additions".
    mode = models.CharField(max_length=10, default="additions")
    # What the person confirmed on the preview: departures (their number, a large share) and, for each
    # mobile corrected in the console, whether the file's number wins (imports.confirmation_from).
    confirmation = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"import {self.school_id} {self.created_at:%Y-%m-%d %H:%M}"


class ImportJobAction(models.TextChoices):
    CHECK = "check", _("Vérification")
    APPLY = "apply", _("Import")


class ImportJobState(models.TextChoices):
    QUEUED = "queued", _("En attente")
    RUNNING = "running", _("En cours")
    DONE = "done", _("Terminé")
    REFUSED = "refused", _("Refusé")


class ImportJob(models.Model):
    """One check (dry run) or import, run by a background worker and followed on its own page.

    Written outside the import's transaction (before and after it), so its state is what every web
    process sees; the row counts while it runs go through the cache (`services.import_jobs`).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey("directory.School", on_delete=models.CASCADE, related_name="+")
    # The checked files: kept for the confirmation when the check found no error.
    pending = models.ForeignKey(PendingImport, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=8, choices=ImportJobAction.choices)
    state = models.CharField(max_length=8, choices=ImportJobState.choices, default=ImportJobState.QUEUED)
    result = models.JSONField(null=True, blank=True)  # report.result_to_json
    error = models.TextField(blank=True)  # why the files were refused as a whole
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.action} {self.school_id} {self.state}"

    @property
    def finished(self) -> bool:
        return self.state in {ImportJobState.DONE, ImportJobState.REFUSED}


class LetterEmailBatch(models.Model):
    """One "Envoyer par courriel" confirmed by a staff member: a school's (or a class's) guardians.

    Its rows (`LetterEmail`) are its report: sent, bounced, still pending. The accounts without any
    recorded email are only counted here: they need a paper letter.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    staff = models.ForeignKey(StaffMember, null=True, on_delete=models.SET_NULL, related_name="+")
    school = models.ForeignKey("directory.School", on_delete=models.CASCADE, related_name="+")
    class_name = models.CharField("classe", max_length=50, blank=True)  # empty: the whole school
    without_email = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"courriels {self.school_id} {self.created_at:%Y-%m-%d %H:%M}"


class LetterEmailState(models.TextChoices):
    PENDING = "pending", _("En attente")
    SENT = "sent", _("Envoyé")
    # Refused by the SMTP server (5yz at RCPT or DATA) or returned later by a DSN (RFC 3464).
    BOUNCED = "bounced", _("Rejeté")
    FAILED = "failed", _("Échec")  # temporary failures until the retries ran out
    CANCELLED = "cancelled", _("Annulé")  # the account was activated (or closed) before its turn


class LetterEmail(models.Model):
    """One activation letter to email to one guardian account; it holds no password.

    The letter is issued when the message is handed to SMTP (`services.letter_emails.attempt`), never
    before, so a retry issues a fresh one. Claimed like a `notifications.Delivery`: `next_attempt_at`
    doubles as a lease. `token` is the opaque part of the envelope sender (VERP) that a DSN names.
    """

    batch = models.ForeignKey(LetterEmailBatch, on_delete=models.CASCADE, related_name="emails")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    recipient = models.EmailField(max_length=254)
    token = models.CharField(max_length=32, unique=True)
    state = models.CharField(max_length=9, choices=LetterEmailState.choices, default=LetterEmailState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # The letter the last attempt issued: revoked again if the message bounces (nobody holds it).
    letter = models.ForeignKey("accounts.ActivationLetter", null=True, on_delete=models.SET_NULL, related_name="+")
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    bounce_status = models.CharField(max_length=40, blank=True)  # "smtp 550" or "dsn 5.1.1"

    class Meta:
        ordering = ("batch", "id")
        indexes = (
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(state="pending"), name="console_letteremail_due"
            ),
        )

    def __str__(self) -> str:
        return f"courriel {self.account_id} ({self.state})"
