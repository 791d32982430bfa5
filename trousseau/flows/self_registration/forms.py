"""Self-registration's own form; the code, children and password steps use `flows.steps.forms`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from trousseau.flows.steps.forms import MobileForm


class IdentityForm(MobileForm):
    """ "Je confirme mon identité": Nom, Prénom, N° de téléphone portable."""

    last_name = forms.CharField(label=pgettext_lazy("nom de famille", "Nom"), max_length=100)
    first_name = forms.CharField(label=_("Prénom"), max_length=100)
    field_order = ("last_name", "first_name", "country", "mobile")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["last_name"].error_messages["required"] = _("Indiquez votre nom.")
        self.fields["first_name"].error_messages["required"] = _("Indiquez votre prénom.")
