"""The school's truth, refreshed by imports and never edited by families."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from trousseau.core.phones import normalize_mobile


class SchoolLevel(models.TextChoices):
    ECOLE = "ecole", _("École")
    COLLEGE = "college", _("Collège")
    LYCEE = "lycee", _("Lycée")


class School(models.Model):
    uai = models.CharField("UAI", max_length=8, unique=True)
    name = models.CharField("nom", max_length=200)
    level = models.CharField("niveau", max_length=10, choices=SchoolLevel.choices)
    academie = models.CharField("académie", max_length=100)
    # Who families reach for help: printed on every letter, set by the school in the console.
    contact_phone = models.CharField("téléphone du secrétariat", max_length=30, blank=True)
    contact_email = models.EmailField("email du secrétariat", blank=True)
    contact_hours = models.CharField("horaires", max_length=120, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.uai})"


class Pupil(models.Model):
    ine = models.CharField("INE", max_length=11, unique=True)
    last_name = models.CharField("nom", max_length=100)
    first_name = models.CharField("prénom", max_length=100)
    birth_date = models.DateField("date de naissance")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="pupils")
    class_name = models.CharField("classe", max_length=20, blank=True)
    # SIECLE's ELEVE_ID: the académie's identifier of the pupil, which its AAF directory (and so the
    # ENTs) know them by; it feeds the `{AAF}` join vector (federation/claims.py). Empty for records
    # from ONDE (whose extractions carry none) or from a hand-made file: no vector is invented for them.
    source_id = models.CharField("identifiant SIECLE (ELEVE_ID)", max_length=20, blank=True, default="")
    # Set by an import that no longer lists the pupil: the account is disabled, the links removed, and
    # the row itself purged DIRECTORY_RETENTION_DAYS later (`purge_directory`); cleared if they return.
    left_at = models.DateTimeField("parti le", null=True, blank=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def age_on(self, day: date) -> int:
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - int(before_birthday)


class Guardian(models.Model):
    """A legal guardian as one school recorded them; one person may appear in several schools."""

    last_name = models.CharField("nom", max_length=100)
    first_name = models.CharField("prénom", max_length=100)
    mobile = models.CharField("téléphone portable", max_length=20, blank=True, db_index=True)
    email = models.EmailField("email", blank=True)
    # The school whose records hold this row, and the key its imports know it by: `id:` + the
    # export's ID_RESPONSABLE, or `nom:` + folded names when the export has no such column
    # (docs/import-format.md). Empty for rows made by hand or by the demo.
    school = models.ForeignKey(School, null=True, blank=True, on_delete=models.PROTECT, related_name="guardians")
    source_key = models.CharField("clé d'import", max_length=120, blank=True)
    # SIECLE's PERSONNE_ID (the AAF identifier of the person), for the `{AAF}` join vector; only an
    # import of SIECLE's own file sets it, never a hand-made file's ID_RESPONSABLE (which could name
    # anybody's AAF identifier and so join this account to another person's ENT account).
    source_id = models.CharField("identifiant SIECLE (PERSONNE_ID)", max_length=20, blank=True, default="")
    left_at = models.DateTimeField("parti le", null=True, blank=True, db_index=True)
    # Set when staff corrected the mobile in the console: an import that brings another number then
    # asks which one is right instead of silently undoing the correction.
    mobile_fixed_at = models.DateTimeField("portable corrigé dans la console le", null=True, blank=True)
    pupils: models.ManyToManyField[Pupil, Guardianship] = models.ManyToManyField(
        Pupil, through="Guardianship", related_name="guardians"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["school", "source_key"], condition=~models.Q(source_key=""), name="one_guardian_per_import_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def clean(self) -> None:
        if self.mobile:
            try:
                self.mobile = normalize_mobile(self.mobile)
            except ValueError as exc:
                raise ValidationError({"mobile": str(exc)}) from exc


class Guardianship(models.Model):
    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="guardianships")
    pupil = models.ForeignKey(Pupil, on_delete=models.CASCADE, related_name="guardianships")
    is_legal_representative = models.BooleanField("représentant légal", default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["guardian", "pupil"], name="one_link_per_pair")]

    def __str__(self) -> str:
        return f"{self.guardian} → {self.pupil}"


class LastImport(models.Model):
    """The files a school's last clean command-line import read, while nothing has changed its records since.

    PostgreSQL triggers delete the row as soon as anything an import reads of the school changes
    (its pupils, guardians, links, their accounts' state, names or merges: migration 0007), so a row
    that exists says the records are as that import left them. The next import that brings the same
    `files` leaves the school out: reading them would change nothing (provisioning/unchanged.py).
    """

    school = models.OneToOneField(School, on_delete=models.CASCADE, primary_key=True, related_name="last_import")
    files = models.CharField("empreinte des fichiers", max_length=64)
    imported_at = models.DateTimeField("importé le")

    def __str__(self) -> str:
        return f"{self.school_id} @ {self.imported_at:%Y-%m-%d %H:%M}"
