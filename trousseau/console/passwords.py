"""The staff password rule: the families' rule, with a longer minimum (ANSSI for privileged accounts).

`enrolment_complete` and `staff_create_enrolled` enforce it; the enrolment form shows its messages.
"""

from __future__ import annotations

from django.utils.translation import gettext

from trousseau.accounts.exceptions import PasswordRefused
from trousseau.accounts.passwords import password_problems
from trousseau.console.conf import staff_min_password_length
from trousseau.console.models import StaffMember


def staff_password_problems(staff: StaffMember, password: str) -> list[str]:
    """Every reason, in the active language, why this staff member may not take this password."""
    problems = password_problems(
        password, identifier=staff.email.split("@")[0], names=(staff.first_name, staff.last_name)
    )
    minimum = staff_min_password_length()
    if len(password) < minimum:
        message = gettext("Le mot de passe d'un personnel compte au moins %(minimum)s caractères.")
        problems.append(message % {"minimum": minimum})
    return problems


def require_acceptable_staff_password(staff: StaffMember, password: str) -> None:
    """Raise PasswordRefused with every problem of `staff_password_problems`; return when accepted."""
    problems = staff_password_problems(staff, password)
    if problems:
        raise PasswordRefused(problems)
