"""Console forms: shapes only; passwords and codes are judged by `authentication` and the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from trousseau.accounts.models import AccountKind, AccountState
from trousseau.console.models import StaffMember
from trousseau.console.passwords import staff_password_problems
from trousseau.core.phones import phone_e164
from trousseau.directory.models import School
from trousseau.provisioning.services import ADDITIONS, COMPLETE


class StaffLoginForm(forms.Form):
    email = forms.EmailField(label=_("Adresse email professionnelle"), max_length=254)
    password = forms.CharField(label=_("Mot de passe"), max_length=256, strip=False, widget=forms.PasswordInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].error_messages.update(
            required=_("Saisissez votre adresse email."),
            invalid=_("Saisissez une adresse email valide, par exemple nom@ac-normandie.fr."),
        )
        self.fields["password"].error_messages["required"] = _("Saisissez votre mot de passe.")


class CodeForm(forms.Form):
    code = forms.CharField(label=_("Code de vérification"), max_length=12)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].error_messages["required"] = _("Saisissez le code à 6 chiffres de votre application.")

    def clean_code(self) -> str:
        code = "".join(str(self.cleaned_data["code"]).split())
        if len(code) != 6 or not code.isdigit():  # noqa: PLR2004 - RFC 6238 codes of 6 digits
            raise forms.ValidationError(_("Le code a 6 chiffres, par exemple 123456."))
        return code


class EnrolmentForm(CodeForm):
    """First visit: choose a password, and type the first code of the app just set up."""

    password = forms.CharField(label=_("Nouveau mot de passe"), strip=False, widget=forms.PasswordInput)
    password_confirm = forms.CharField(label=_("Confirmez votre mot de passe"), strip=False, widget=forms.PasswordInput)

    field_order = ("password", "password_confirm", "code")

    def __init__(self, *args: Any, staff: StaffMember, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.staff = staff
        self.fields["password"].error_messages["required"] = _("Choisissez un mot de passe.")
        self.fields["password_confirm"].error_messages["required"] = _("Confirmez votre mot de passe.")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        password = cleaned.get("password")
        if password:
            problems = staff_password_problems(self.staff, password)
            for problem in problems:
                self.add_error("password", problem)
            if not problems and password != cleaned.get("password_confirm"):
                self.add_error("password_confirm", _("Les deux mots de passe ne sont pas identiques."))
        return cleaned


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Nom, identifiant, INE, téléphone ou email"), max_length=254, required=False)
    kind = forms.ChoiceField(label=_("Profil"), choices=[("", _("Tous")), *AccountKind.choices], required=False)
    state = forms.ChoiceField(
        label=_("État du compte"), choices=[("", _("Tous")), *AccountState.choices], required=False
    )
    classe = forms.ChoiceField(label=_("Classe"), choices=[("", _("Toutes"))], required=False)

    def __init__(self, *args: Any, classes: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["classe"].choices = [("", _("Toutes")), *((c, c) for c in classes)]  # type: ignore[attr-defined]


class ContactForm(forms.Form):
    mobile = forms.CharField(
        label=_("Téléphone portable"),
        max_length=30,
        required=False,
        help_text=_("Par exemple 06 12 34 56 78 ou +262 692 12 34 56"),
    )
    email = forms.EmailField(label=_("Adresse email"), max_length=254, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].error_messages["invalid"] = _(
            "Saisissez une adresse email valide, par exemple nom@exemple.fr."
        )


class ResolveForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Décision"),
        choices=[
            ("keep", _("Le lien est juste : le garder")),
            ("remove", _("Le lien est faux : le supprimer")),
        ],
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["decision"].error_messages["required"] = _("Choisissez une décision.")


IMPORT_MODES = [
    (ADDITIONS, _("Ajouts et modifications seulement : les élèves absents du fichier restent inscrits")),
    (COMPLETE, _("Liste complète de l'établissement : les élèves absents du fichier quittent l'établissement")),
]


class ImportForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("Ce que contiennent les fichiers"),
        choices=IMPORT_MODES,
        initial=ADDITIONS,
        required=False,
        widget=forms.RadioSelect,
    )
    # Labelled as the refusals name them (« déposez-le dans « Responsables » », exports.slot_label).
    pupils = forms.FileField(label=pgettext_lazy("import slot", "Élèves"), required=False)
    guardians = forms.FileField(label=pgettext_lazy("import slot", "Responsables"), required=False)

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if not cleaned.get("pupils") and not cleaned.get("guardians"):
            raise forms.ValidationError(_("Choisissez au moins un fichier à importer."))
        cleaned["mode"] = cleaned.get("mode") or ADDITIONS  # nobody leaves unless the person says so
        return cleaned


DAYS_CHOICES = [(7, _("7 jours")), (30, _("30 jours")), (90, _("90 jours"))]


class PeriodForm(forms.Form):
    jours = forms.TypedChoiceField(label=_("Période"), choices=DAYS_CHOICES, coerce=int, required=False, initial=30)


class LettersForm(forms.Form):
    """Which letters to print: the whole school or a class; pupils, guardians or both."""

    classe = forms.ChoiceField(label=_("Classe"), choices=[("", _("Tout l'établissement"))], required=False)
    kinds = forms.ChoiceField(
        label=_("Pour qui"),
        choices=[
            ("pupils", _("Les élèves")),
            ("guardians", _("Les responsables")),
            ("both", _("Les élèves et leurs responsables")),
        ],
        widget=forms.RadioSelect,
        initial="pupils",
    )
    format = forms.ChoiceField(choices=[("pdf", "PDF"), ("csv", "CSV")], initial="pdf")
    # Asked only when some accounts already hold a letter still usable: replace those letters, or leave
    # those accounts out. Empty: not asked yet.
    valides = forms.ChoiceField(
        choices=[("", ""), ("remplacer", "remplacer"), ("sans_courrier", "sans_courrier")], required=False
    )

    def __init__(self, *args: Any, classes: list[str], primary: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["classe"].choices = [("", _("Tout l'établissement")), *((c, c) for c in classes)]  # type: ignore[attr-defined]
        self.fields["kinds"].error_messages["required"] = _("Choisissez pour qui imprimer les courriers.")
        if primary:  # an école's pupils have no account: only their guardians get letters
            self.fields["kinds"].choices = [("guardians", _("Les responsables"))]  # type: ignore[attr-defined]
            self.fields["kinds"].initial = "guardians"


class SchoolContactForm(forms.Form):
    """What families read on their letters to reach the school: each part optional, checked when given."""

    phone = forms.CharField(label=_("Téléphone du secrétariat"), max_length=30, required=False)
    email = forms.EmailField(
        label=_("Adresse email"), required=False, error_messages={"invalid": _("Saisissez une adresse email valide.")}
    )
    hours = forms.CharField(label=_("Horaires"), max_length=120, required=False)

    def clean_phone(self) -> str:
        raw = " ".join(str(self.cleaned_data.get("phone", "")).split())
        if raw and phone_e164(raw) is None:
            raise forms.ValidationError(_("Ce numéro de téléphone n'est pas valide (par exemple 02 31 00 00 00)."))
        return raw  # kept as the school writes it: it is printed, not dialled by Trousseau


def staff_role_name(role: str, school: School) -> str:
    """A role as this school names it ("Directeur ou directrice d'école" in an école)."""
    return StaffMember(role=role, school=school).role_label


class StaffAddForm(forms.Form):
    """A new access to the school's console: who, and which of the roles the person may give."""

    first_name = forms.CharField(label=_("Prénom"), max_length=100)
    last_name = forms.CharField(label=_("Nom"), max_length=100)
    email = forms.EmailField(
        label=_("Adresse email professionnelle"),
        max_length=254,
        help_text=_("Elle sert d'identifiant de connexion à la console."),
    )
    role = forms.ChoiceField(label=_("Rôle"), widget=forms.RadioSelect)

    field_order = ("first_name", "last_name", "email", "role")

    def __init__(self, *args: Any, roles: tuple[str, ...], school: School, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, staff_role_name(r, school)) for r in roles]  # type: ignore[attr-defined]
        self.fields["first_name"].error_messages["required"] = _("Saisissez le prénom.")
        self.fields["last_name"].error_messages["required"] = _("Saisissez le nom.")
        self.fields["email"].error_messages.update(
            required=_("Saisissez l'adresse email professionnelle."),
            invalid=_("Saisissez une adresse email valide, par exemple prenom.nom@ac-normandie.fr."),
        )
        self.fields["role"].error_messages.update(
            required=_("Choisissez un rôle."),
            invalid_choice=_("Vous ne pouvez pas donner ce rôle. Choisissez un des rôles proposés."),
        )
