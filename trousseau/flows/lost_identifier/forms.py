"""'Identifiant perdu': the channel and where to send the reminder."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from trousseau.core.phones import mobile_e164
from trousseau.flows.steps.forms import CHANNEL_CHOICES, COUNTRY_CHOICES


class LostIdentifierForm(forms.Form):
    channel = forms.ChoiceField(label=_("Je reçois mon identifiant"), choices=CHANNEL_CHOICES, widget=forms.RadioSelect)
    email = forms.EmailField(label=_("Adresse email"), required=False, max_length=254)
    country = forms.ChoiceField(label=_("Indicatif"), choices=COUNTRY_CHOICES, initial="FR", required=False)
    mobile = forms.CharField(label=_("N° de téléphone portable"), max_length=30, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].error_messages["required"] = _("Choisissez comment recevoir votre identifiant.")
        self.fields["email"].error_messages["invalid"] = _(
            "Saisissez une adresse email valide, par exemple nom@exemple.fr."
        )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if cleaned.get("channel") == "email" and not cleaned.get("email") and "email" not in self.errors:
            self.add_error("email", _("Indiquez votre adresse email."))
        if cleaned.get("channel") == "sms":
            e164 = mobile_e164(cleaned.get("mobile") or "", cleaned.get("country") or "FR")
            if e164 is None:
                self.add_error(
                    "mobile", _("Ce numéro n'est pas un numéro de téléphone portable valide pour l'indicatif choisi.")
                )
            cleaned["phone"] = e164
        return cleaned
