"""Forms of "Gérer mon compte": shape checks only (French source, translated); services judge secrets."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from trousseau.accounts.changes import CURRENT_PASSWORD_KEPT
from trousseau.accounts.exceptions import WrongCurrentPassword
from trousseau.accounts.models import Account
from trousseau.accounts.passwords import account_check_context, account_password_problems, check_token
from trousseau.core.refusals import TooManyTries, too_many_tries


def current_password_field() -> forms.CharField:
    return forms.CharField(
        label=_("Mot de passe actuel"), max_length=256, strip=False, required=False, widget=forms.PasswordInput
    )


def ask_current_password(form: forms.Form, account: Account, name: str = "current_password") -> bool:
    """Require the current password on `form`, or drop the field for an account that has none.

    An account without a password (FranceConnect only) proves it is the holder by a fresh FranceConnect
    login instead (`changes.confirm_holder`). Returns whether the password is asked.
    """
    if not account.has_usable_password():
        del form.fields[name]
        return False
    form.fields[name].required = True
    form.fields[name].error_messages["required"] = _("Saisissez votre mot de passe actuel.")
    return True


class PasswordChangeForm(forms.Form):
    """Current password, then a new one judged by the seed's rule and the personal blocklist."""

    current_password = current_password_field()
    password = forms.CharField(label=_("Nouveau mot de passe"), strip=False, widget=forms.PasswordInput)
    password_confirm = forms.CharField(label=_("Confirmez votre mot de passe"), strip=False, widget=forms.PasswordInput)

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        self.asks_password = ask_current_password(self, account)
        self.fields["password"].error_messages["required"] = _("Choisissez un nouveau mot de passe.")
        self.fields["password_confirm"].error_messages["required"] = _("Confirmez votre mot de passe.")

    @property
    def password_check(self) -> str:
        """The sealed context of the live password help (flows/includes/new_password.html)."""
        return check_token(account_check_context(self.account))

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        password = cleaned.get("password")
        if password:
            problems = account_password_problems(self.account, password)
            for problem in problems:
                self.add_error("password", problem)
            if not problems and password == cleaned.get("current_password"):
                self.add_error("password", CURRENT_PASSWORD_KEPT)
            elif not problems and password != cleaned.get("password_confirm"):
                self.add_error("password_confirm", _("Les deux mots de passe ne sont pas identiques."))
        return cleaned


class EmailForm(forms.Form):
    email = forms.EmailField(label=_("Nouvelle adresse email"), max_length=254)
    current_password = current_password_field()

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        self.asks_password = ask_current_password(self, account)
        self.fields["email"].error_messages.update(
            required=_("Indiquez votre adresse email."),
            invalid=_("Saisissez une adresse email valide, par exemple nom@exemple.fr."),
        )

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).strip()
        if self.account.email_verified and email.lower() == self.account.email.lower():
            raise forms.ValidationError(_("C'est déjà votre adresse email vérifiée."))
        return email


class GroupingForm(forms.Form):
    """The identifier and password of the other account (its letter's, or the one chosen for it)."""

    identifier = forms.CharField(label=_("Identifiant de l'autre compte"), max_length=64)
    password = forms.CharField(
        label=_("Mot de passe de l'autre compte"), max_length=256, strip=False, widget=forms.PasswordInput
    )
    # Asked by the service only when the password is a letter's (the other account is not yet activated).
    birth_date = forms.DateField(label=_("Date de naissance d'un enfant de l'autre compte"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["identifier"].error_messages["required"] = _("Saisissez l'identifiant de l'autre compte.")
        self.fields["password"].error_messages["required"] = _("Saisissez le mot de passe de l'autre compte.")
        self.fields["birth_date"].error_messages["invalid"] = _("Saisissez une date valide, par exemple 14/03/2012.")


class DataExportForm(forms.Form):
    """The holder's password again before the account's data leave as a file."""

    password = forms.CharField(label=_("Mot de passe"), max_length=256, strip=False, widget=forms.PasswordInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password"].error_messages["required"] = _("Saisissez votre mot de passe.")


def holder_proof_refused(form: forms.Form, exc: Exception) -> str:
    """The French answer to a refused proof of the holder (`changes.confirm_holder`): a field error on
    `form`, or the page's message (returned; "" when the field error says it all)."""
    if isinstance(exc, WrongCurrentPassword):
        form.add_error("current_password", gettext("Le mot de passe actuel est incorrect. Rien n'a été modifié."))
        return ""
    if isinstance(exc, TooManyTries):
        return too_many_tries(exc.minutes)
    return gettext(
        "Pour confirmer que c'est bien vous, reconnectez-vous avec FranceConnect, puis recommencez dans les "
        "%(minutes)s minutes qui suivent. Rien n'a été modifié."
    ) % {"minutes": int(settings.REAUTH_FRESH_LOGIN.total_seconds() // 60)}
