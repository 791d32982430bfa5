"""Forms of the shared steps (a mobile number, an SMS code, the children's birth dates, a new password)
and the recovery channel choice: shape checks only, in French; the transitions judge secrets."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

from django import forms
from django.utils.functional import Promise, lazy
from django.utils.translation import get_language_bidi
from django.utils.translation import gettext_lazy as _

from trousseau.accounts.passwords import CheckContext, check_token, password_problems
from trousseau.core.phones import mobile_e164

# +33 first, then the overseas departments and collectivities, then neighbouring countries (seed 001:
# "Pour les numéros hors France métropolitaine, merci d'indiquer l'indicatif régional"), then the countries of
# the families' other languages, where many of their phones come from. The names follow the reader's language.
COUNTRY_NAMES = [
    ("FR", "+33", _("France métropolitaine")),
    ("GP", "+590", _("Guadeloupe, Saint-Martin, Saint-Barthélemy")),
    ("MQ", "+596", _("Martinique")),
    ("GF", "+594", _("Guyane")),
    ("RE", "+262", _("La Réunion, Mayotte")),
    ("PM", "+508", _("Saint-Pierre-et-Miquelon")),
    ("NC", "+687", _("Nouvelle-Calédonie")),
    ("PF", "+689", _("Polynésie française")),
    ("WF", "+681", _("Wallis-et-Futuna")),
    ("BE", "+32", _("Belgique")),
    ("LU", "+352", _("Luxembourg")),
    ("DE", "+49", _("Allemagne")),
    ("CH", "+41", _("Suisse")),
    ("IT", "+39", _("Italie")),
    ("MC", "+377", _("Monaco")),
    ("ES", "+34", _("Espagne")),
    ("AD", "+376", _("Andorre")),
    ("PT", "+351", _("Portugal")),
    ("TR", "+90", _("Turquie")),
    ("MA", "+212", _("Maroc")),
    ("DZ", "+213", _("Algérie")),
    ("TN", "+216", _("Tunisie")),
]


def _country_label(code: str, name: Promise) -> str:
    # Right to left, a bare "+33" would show as "33+": a left-to-right mark keeps the sign before the digits.
    mark = "\u200e" if get_language_bidi() else ""
    return f"{mark}{code} {name}"


COUNTRY_CHOICES = [(region, lazy(_country_label, str)(code, name)) for region, code, name in COUNTRY_NAMES]


class MobileForm(forms.Form):
    """A mobile number with its country code, parsed to E.164 into `cleaned_data["phone"]`."""

    country = forms.ChoiceField(label=_("Indicatif"), choices=COUNTRY_CHOICES, initial="FR")
    mobile = forms.CharField(label=_("N° de téléphone portable"), max_length=30)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mobile"].error_messages["required"] = _("Indiquez votre numéro de téléphone portable.")
        self.fields["country"].error_messages["invalid_choice"] = _("Choisissez un indicatif dans la liste.")

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


class CodeForm(forms.Form):
    code = forms.CharField(label=_("Code de sécurité"), max_length=12)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].error_messages["required"] = _("Saisissez le code reçu par SMS.")

    def clean_code(self) -> str:
        # Any script's decimal digits count (a phone set to Arabic types ٣ for 3); superscripts do not.
        digits = "".join(str(unicodedata.decimal(c)) for c in self.cleaned_data["code"] if c.isdecimal())
        if len(digits) != 6:  # noqa: PLR2004 - the codes have 6 digits
            raise forms.ValidationError(_("Le code de sécurité contient 6 chiffres."))
        return digits


LEGAL_CHOICES = [
    ("oui", _("Je suis le représentant légal de cet élève")),
    ("non", _("Je ne suis pas le représentant légal de cet élève")),
]


class ChildrenForm(forms.Form):
    """ "Je confirme mon lien avec les élèves": for each child, the link and the birth date."""

    def __init__(self, *args: Any, children: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.children = children
        for child in children:
            self.fields[f"legal_{child.pupil_id}"] = forms.ChoiceField(
                label=f"{child.first_name} {child.last_initial}.",
                choices=LEGAL_CHOICES,
                widget=forms.RadioSelect,
                error_messages={"required": _("Indiquez si vous êtes le représentant légal de cet élève.")},
            )
            self.fields[f"birth_{child.pupil_id}"] = forms.DateField(
                label=_("Né(e) le"),
                required=False,
                widget=forms.DateInput(attrs={"type": "date"}),
                error_messages={"invalid": _("Saisissez une date valide, par exemple 14/03/2012.")},
            )

    def rows(self) -> list[tuple[Any, forms.BoundField, forms.BoundField]]:
        return [(c, self[f"legal_{c.pupil_id}"], self[f"birth_{c.pupil_id}"]) for c in self.children]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        answers: dict[int, date | None] = {}
        for child in self.children:
            legal = cleaned.get(f"legal_{child.pupil_id}")
            day = cleaned.get(f"birth_{child.pupil_id}")
            if legal == "oui" and day is None and f"birth_{child.pupil_id}" not in self.errors:
                self.add_error(f"birth_{child.pupil_id}", _("Renseignez la date de naissance de cet élève."))
            answers[child.pupil_id] = day if legal == "oui" else None
        cleaned["answers"] = answers
        return cleaned


class NewPasswordForm(forms.Form):
    """A new password and its confirmation, judged by the seed's rule and the personal blocklist."""

    password = forms.CharField(label=_("Mot de passe"), strip=False, widget=forms.PasswordInput)
    password_confirm = forms.CharField(
        label=_("Confirmation du nouveau mot de passe"), strip=False, widget=forms.PasswordInput
    )

    def __init__(
        self, *args: Any, identifier: str, names: tuple[str, ...], birth_dates: tuple[date, ...], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.personal = {"identifier": identifier, "names": names, "birth_dates": birth_dates}
        self.fields["password"].error_messages["required"] = _("Choisissez un nouveau mot de passe.")
        self.fields["password_confirm"].error_messages["required"] = _("Confirmez votre mot de passe.")

    @property
    def password_check(self) -> str:
        """The sealed context of the live password help: the same words and dates this form judges with."""
        return check_token(CheckContext(**self.personal))  # type: ignore[arg-type]

    def clean(self) -> dict[str, Any]:
        """Every problem at once: the rule and the confirmation."""
        cleaned: dict[str, Any] = super().clean() or {}
        password = cleaned.get("password")
        if password:
            for problem in password_problems(password, **self.personal):  # type: ignore[arg-type]
                self.add_error("password", problem)
            confirm = cleaned.get("password_confirm")
            if confirm and password != confirm:
                self.add_error("password_confirm", _("Les deux mots de passe ne sont pas identiques."))
        return cleaned


CHANNEL_CHOICES = [
    ("email", _("Par email (adresse vérifiée)")),
    ("sms", _("Par SMS (numéro enregistré par l'établissement, ou votre numéro vérifié)")),
]
