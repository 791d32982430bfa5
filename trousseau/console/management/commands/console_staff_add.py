"""Create a console staff member and print their one-time enrolment link (or a temporary password)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from trousseau.console.conf import enrolment_validity
from trousseau.console.models import StaffMember, StaffRole
from trousseau.console.services.staff import Invitation, staff_create, staff_reinvite
from trousseau.directory.models import School


class Command(BaseCommand):
    help = (
        "Create a console staff member (académie operator, head of school, secretariat or read-only) and print "
        "the one-time link where they choose a password and set up their authenticator app; --reset starts a "
        "new enrolment for an existing one (lost phone)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--role", choices=list(StaffRole.values), default=StaffRole.SECRETARIAT)
        parser.add_argument("--school", metavar="UAI", help="the school of a head, a secretariat or a reader")
        parser.add_argument("--academie", help="the académie of an operator (or of a reader of every school)")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument(
            "--temporary-password",
            action="store_true",
            help="print a temporary password instead of a link (the authenticator is set up at first login)",
        )
        parser.add_argument("--reset", action="store_true", help="new enrolment for an existing staff member")

    def handle(self, *args: Any, **options: Any) -> None:
        email = str(options["email"]).strip().lower()
        temporary = bool(options["temporary_password"])
        if options["reset"]:
            staff = StaffMember.objects.filter(email=email).first()
            if staff is None:
                msg = f"No staff member with the email {email}."
                raise CommandError(msg)
            self._print(staff_reinvite(staff=staff, temporary_password=temporary))
            return
        school = None
        if options["school"]:
            school = School.objects.filter(uai=str(options["school"]).upper()).first()
            if school is None:
                msg = f"Unknown school UAI {options['school']}."
                raise CommandError(msg)
        # prenom.nom@... is the usual shape of académie addresses: names default from it.
        first, _, last = email.split("@")[0].partition(".")
        try:
            invitation = staff_create(
                email=email,
                first_name=options["first_name"] or first.title(),
                last_name=options["last_name"] or (last or first).title(),
                role=StaffRole(options["role"]),
                school=school,
                academie=options["academie"] or "",
                temporary_password=temporary,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        self._print(invitation)

    def _print(self, invitation: Invitation) -> None:
        staff = invitation.staff
        self.stdout.write(f"Staff member {staff.email} ({staff.get_role_display()}).")
        if invitation.temporary_password:
            login = settings.PUBLIC_URL.rstrip("/") + reverse("console:login")
            self.stdout.write(f"Temporary password (shown once): {invitation.temporary_password}")
            self.stdout.write(f"Log in at {login}; the authenticator app is set up at first login.")
            return
        link = settings.PUBLIC_URL.rstrip("/") + reverse("console:enrol_link", args=[invitation.token])
        hours = int(enrolment_validity().total_seconds() // 3600)
        self.stdout.write(f"One-time enrolment link (valid {hours} hours, shown once): {link}")
