"""The mire's form: shape checks only (French source, translated); accounts.authentication judges the secret."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from trousseau.accounts.models import AccountKind

# The values ÉduConnect's `typeUser` takes (research/educonnect.md §4.1), and the account kind each means.
PROFILE_CHOICES = [("eleve", _("Élève")), ("responsable", _("Responsable d'élève"))]
PROFILE_KINDS = {"eleve": AccountKind.PUPIL, "responsable": AccountKind.GUARDIAN}


class LoginForm(forms.Form):
    profile = forms.ChoiceField(
        label=_("Je suis"), choices=PROFILE_CHOICES, widget=forms.RadioSelect, initial="responsable", required=False
    )
    identifier = forms.CharField(label=_("Identifiant"), max_length=64, strip=True)
    password = forms.CharField(label=_("Mot de passe"), max_length=256, strip=False, widget=forms.PasswordInput)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["identifier"].error_messages["required"] = _("Saisissez votre identifiant.")
        self.fields["password"].error_messages["required"] = _("Saisissez votre mot de passe.")
