"""Activation du compte: the letter journey's one form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from trousseau.accounts.models import Account
from trousseau.accounts.passwords import CheckContext, check_token, password_problems
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

    def check_context(self) -> CheckContext:
        """What the password is judged against before the birth date is proven: the identifier, the names
        and the date typed on this page, never the dates the account knows (the proof itself: see
        `transitions.submit`, which judges against them once the date is right)."""
        return CheckContext(
            identifier=self.account.identifier,
            names=(self.account.first_name, self.account.last_name),
            letter_id=letter.pk if (letter := current_letter(self.account)) else None,
        )

    @property
    def password_check(self) -> str:
        """The sealed context of the live password help (the page adds the date typed)."""
        return check_token(self.check_context())

    def clean(self) -> dict[str, Any]:
        """Every problem at once: the password rule, the letter's password, the confirmation."""
        cleaned: dict[str, Any] = super().clean() or {}
        password = cleaned.get("password")
        if password:
            birth_date = cleaned.get("birth_date")
            context = self.check_context()
            problems = password_problems(
                password,
                identifier=context.identifier,
                names=context.names,
                birth_dates=(birth_date,) if birth_date else (),
            )
            if not problems and is_the_letters_password(current_letter(self.account), password):
                problems = [str(LETTER_PASSWORD_KEPT)]
            for problem in problems:
                self.add_error("password", problem)
            confirm = cleaned.get("password_confirm")
            if confirm and password != confirm:
                self.add_error("password_confirm", _("Les deux mots de passe ne sont pas identiques."))
        return cleaned
