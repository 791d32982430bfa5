"""The form of the FranceConnect first login: the mobile the school recorded (shape checks only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from trousseau.flows.sms_forms import COUNTRY_CHOICES, mobile_e164


class MobileForm(forms.Form):
    country = forms.ChoiceField(label=_("Indicatif"), choices=COUNTRY_CHOICES, initial="FR")
    mobile = forms.CharField(label=_("N° de téléphone portable"), max_length=30)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mobile"].error_messages["required"] = _("Indiquez votre numéro de téléphone portable.")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        raw, region = cleaned.get("mobile"), cleaned.get("country")
        if raw and region:
            e164 = mobile_e164(raw, region)
            if e164 is None:
                self.add_error(
                    "mobile", _("Ce numéro n'est pas un numéro de téléphone portable valide pour l'indicatif choisi.")
                )
            else:
                cleaned["phone"] = e164
        return cleaned
