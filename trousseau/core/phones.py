"""Phone numbers, in one place: mobiles parsed to E.164 (France by default), shown, masked.

Schools type numbers in every national form; families pick a country code and type the rest. Both end
up in E.164, the only form stored, sent to the SMS gateways and compared.
"""

from __future__ import annotations

import re

import phonenumbers
from django.utils.translation import gettext

MOBILE_TYPES = frozenset({phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})
# E.164: "+", a country code that never starts with 0, at most 15 digits in all.
E164 = re.compile(r"\+[1-9]\d{6,14}")
# The common case without phonenumbers' full parse: French mobiles as schools type them.
FRENCH_MOBILE_RE = re.compile(r"^(?:\+33|0033|0)\s?\(?0?\)?\s?([67])((?:[\s.-]?[0-9]{2}){4})$")


def _parse(raw: str, region: str | None = None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None


def _is_mobile(number: phonenumbers.PhoneNumber) -> bool:
    return phonenumbers.number_type(number) in MOBILE_TYPES


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_mobile(raw: str, region: str = "FR") -> str:
    """`06 12 34 56 78` -> `+33612345678`; raises ValueError with a translated message (a landline too)."""
    number = _parse(raw, region)
    if number is None or not phonenumbers.is_valid_number(number):
        msg = gettext("Ce numéro de téléphone n'est pas valide.")
        raise ValueError(msg)
    if not _is_mobile(number):
        # A landline cannot receive the SMS codes this number is kept for.
        msg = gettext("Ce numéro n'est pas un portable : un téléphone fixe ne peut pas recevoir les codes par SMS.")
        raise ValueError(msg)
    return _e164(number)


def normalize_school_mobile(raw: str) -> str:
    """A school's record: the usual French forms without a full parse (millions of rows), else `normalize_mobile`."""
    fast = FRENCH_MOBILE_RE.match(raw)
    if fast:
        return "+33" + fast.group(1) + re.sub(r"[^0-9]", "", fast.group(2))
    return normalize_mobile(raw)


def mobile_e164(raw: str, region: str) -> str | None:
    """The E.164 form of a mobile number typed with a country choice, or None if it is not one."""
    number = _parse(raw, region)
    if number is None or not phonenumbers.is_valid_number(number) or not _is_mobile(number):
        return None
    # "+44…" typed with "+33 France" chosen: only the listed countries' numbers get SMS (SMS pumping).
    if number.country_code != phonenumbers.country_code_for_region(region):
        return None
    return _e164(number)


def phone_e164(raw: str, region: str = "FR") -> str | None:
    """Any valid number as somebody reads it out (`06.12.34.56.78`, `0033 6…`, `+262 692…`) in E.164, else None.

    Only what starts as a phone number is read as one (a 0 or a +): nine digits alone are an INE's start.
    """
    text = raw.strip()
    if not text.startswith(("0", "+")) or re.search(r"[^0-9+().\s/-]", text):
        return None
    number = _parse(text, region)
    return _e164(number) if number is not None and phonenumbers.is_valid_number(number) else None


def calling_code(e164: str) -> int | None:
    """`+262692123456` -> 262; None if it is not a number."""
    number = _parse(e164)
    return number.country_code if number else None


def mask(e164: str) -> str:
    """Show only the last two digits: `+33 6 •• •• •• 78`."""
    return f"{e164[:3]} •• •• •• {e164[-2:]}" if len(e164) > len("+33") + 2 else "••"


def format_mobile(e164: str) -> str:
    """International form with spaces, for display: `+262 692 12 34 56`."""
    number = _parse(e164)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL) if number else e164
