"""'Identifiant perdu': one field, an email address or a mobile number; the channel follows from it.

Families do not know which "channel" a school recorded; they know their email address and their phone
number. So they type one of them, and what they typed says where the reminder goes: an "@" makes it an
email address, anything else is read as a mobile number with the country code chosen beside it.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from trousseau.core.phones import mobile_e164
from trousseau.flows.steps.forms import COUNTRY_CHOICES

# What a phone number is typed with: digits, spaces, dots, dashes, brackets and a leading "+".
LOOKS_LIKE_A_NUMBER = re.compile(r"^\+?[\d\s().-]+$")

EMPTY = _("Indiquez votre adresse email ou votre numéro de téléphone portable.")
BAD_EMAIL = _("Saisissez une adresse email valide, par exemple nom@exemple.fr.")
BAD_MOBILE = _("Ce numéro n'est pas un numéro de téléphone portable valide pour l'indicatif choisi.")
NEITHER = _(
    "Saisissez une adresse email (par exemple nom@exemple.fr) ou un numéro de téléphone portable "
    "(par exemple 06 12 34 56 78)."
)


class LostIdentifierForm(forms.Form):
    contact = forms.CharField(label=_("Adresse email ou numéro de téléphone portable"), max_length=254)
    # Used only when `contact` is a phone number: the same choice as everywhere a mobile is typed.
    country = forms.ChoiceField(label=_("Indicatif"), choices=COUNTRY_CHOICES, initial="FR", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].error_messages["required"] = EMPTY
        self.fields["country"].error_messages["invalid_choice"] = _("Choisissez un indicatif dans la liste.")

    def clean(self) -> dict[str, Any]:
        """Sets `channel` ("email" or "sms") and `destination` (the address, or the E.164 number)."""
        cleaned: dict[str, Any] = super().clean() or {}
        typed = str(cleaned.get("contact") or "").strip()
        if not typed or "country" in self.errors:
            return cleaned
        if "@" in typed:
            try:
                validate_email(typed)
            except ValidationError:
                self.add_error("contact", BAD_EMAIL)
                return cleaned
            cleaned["channel"], cleaned["destination"] = "email", typed
            return cleaned
        phone = mobile_e164(typed, cleaned.get("country") or "FR")
        if phone is None:
            self.add_error("contact", BAD_MOBILE if LOOKS_LIKE_A_NUMBER.match(typed) else NEITHER)
            return cleaned
        cleaned["channel"], cleaned["destination"] = "sms", phone
        return cleaned
