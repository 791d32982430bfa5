"""Forms of the journeys: shape checks only (French source, translated); flows judge secrets."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from trousseau.accounts.models import Account
from trousseau.accounts.passwords import account_password_problems
from trousseau.accounts.services import LETTER_PASSWORD_KEPT, current_letter, is_the_letters_password


class ActivationForm(forms.Form):
    """ "Activation du compte": checks that count for nothing (rule, confirmation, email shape)."""

    password = forms.CharField(label=_("Nouveau mot de passe"), strip=False, widget=forms.PasswordInput)
    password_confirm = forms.CharField(label=_("Confirmez votre mot de passe"), strip=False, widget=forms.PasswordInput)
    birth_date = forms.DateField(label=_("Votre date de naissance"), widget=forms.DateInput(attrs={"type": "date"}))
    email = forms.EmailField(label=_("Email (facultatif)"), required=False, max_length=254)

    def __init__(self, *args: object, account: Account, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.account = account
        self.fields["password"].error_messages["required"] = _("Choisissez un nouveau mot de passe.")
        self.fields["password_confirm"].error_messages["required"] = _("Confirmez votre mot de passe.")
        self.fields["birth_date"].error_messages.update(
            required=_("Renseignez la date de naissance."),
            invalid=_("Saisissez une date valide, par exemple 14/03/2012."),
        )
        self.fields["email"].error_messages["invalid"] = _(
            "Saisissez une adresse email valide, par exemple nom@exemple.fr."
        )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        password = cleaned.get("password")
        if password:
            birth_date = cleaned.get("birth_date")
            problems = account_password_problems(
                self.account, password, birth_dates=(birth_date,) if birth_date else ()
            )
            if not problems and is_the_letters_password(current_letter(self.account), password):
                problems = [str(LETTER_PASSWORD_KEPT)]
            for problem in problems:
                self.add_error("password", problem)
            if not problems and password != cleaned.get("password_confirm"):
                self.add_error("password_confirm", _("Les deux mots de passe ne sont pas identiques."))
        return cleaned
