"""'Mot de passe perdu': the identifier and the channel; the code and new-password steps are shared."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from trousseau.flows.steps.forms import CHANNEL_CHOICES


class LostPasswordForm(forms.Form):
    identifier = forms.CharField(label=_("Identifiant"), max_length=64)
    channel = forms.ChoiceField(
        label=_("Je reçois de quoi changer mon mot de passe"), choices=CHANNEL_CHOICES, widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["identifier"].error_messages["required"] = _("Saisissez votre identifiant.")
        self.fields["channel"].error_messages["required"] = _("Choisissez comment recevoir le code ou le lien.")
