"""Mobile numbers in E.164, as `phonenumbers` understands them (France by default)."""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext

MOBILE_TYPES = frozenset({phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})


def normalize_mobile(raw: str, region: str = "FR") -> str:
    """`06 12 34 56 78` -> `+33612345678`; raises ValueError with a translated message (a landline too)."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        msg = gettext("Ce numéro de téléphone n'est pas valide.")
        raise ValueError(msg) from exc
    if not phonenumbers.is_valid_number(number):
        msg = gettext("Ce numéro de téléphone n'est pas valide.")
        raise ValueError(msg)
    if phonenumbers.number_type(number) not in MOBILE_TYPES:
        # A landline cannot receive the SMS codes this number is kept for.
        msg = gettext("Ce numéro n'est pas un portable : un téléphone fixe ne peut pas recevoir les codes par SMS.")
        raise ValueError(msg)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask(e164: str) -> str:
    """Show only the last two digits: `+33 6 •• •• •• 78`."""
    return f"{e164[:3]} •• •• •• {e164[-2:]}" if len(e164) > len("+33") + 2 else "••"


def format_mobile(e164: str) -> str:
    """International form with spaces, for display: `+262 692 12 34 56`."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164
