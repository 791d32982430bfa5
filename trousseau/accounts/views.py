""" "Gérer mon compte": password, sessions, history, grouping, data export. The mire and logout are in `signin`.

This app owns the page; the journeys it starts live in flows, which accounts never imports: the new
email (a link to send) in `flows.email_verification.views`, the new mobile (an SMS code) in
`flows.change_mobile.views`.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from trousseau.accounts import activity, change_notices, grouping, passwords
from trousseau.accounts.changes import password_change, sessions_end_others
from trousseau.accounts.data_export import data_export
from trousseau.accounts.exceptions import FreshLoginRequired, WrongCurrentPassword
from trousseau.accounts.forms import DataExportForm, GroupingForm, PasswordChangeForm, holder_proof_refused
from trousseau.accounts.models import Account, AccountKind, LetterStatus
from trousseau.accounts.passwords import COMPOSITION_RULES
from trousseau.accounts.selectors import account_overview
from trousseau.accounts.sessions import authenticated_at, session_keep_after_password_change
from trousseau.core import continuation
from trousseau.core.http import address_block, client_ip
from trousseau.core.refusals import Throttled, TooManyTries, too_many_tries


def _account(request: HttpRequest) -> Account:
    assert isinstance(request.user, Account)  # noqa: S101 - login_required guarantees it
    return request.user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    context = {
        **account_overview(account),
        "logins": activity.recent_logins(account),
        "sessions": activity.open_sessions(account, current_key=request.session.session_key),
    }
    return render(request, "accounts/home.html", context)


@login_required
def history(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    return render(request, "accounts/history.html", {"lines": activity.history(account)})


@login_required
@require_http_methods(["GET", "POST"])
def change_password(request: HttpRequest) -> HttpResponse:
    account = _account(request)
    form = PasswordChangeForm(request.POST if request.method == "POST" else None, account=account)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            account = password_change(
                account=account,
                current=form.cleaned_data.get("current_password", ""),
                new=form.cleaned_data["password"],
                ip=client_ip(request),
                keep_session=request.session.session_key,
                authenticated_at=authenticated_at(request.session),
            )
        except WrongCurrentPassword:
            form.add_error("current_password", _("Le mot de passe actuel est incorrect."))
        except TooManyTries as exc:
            error = too_many_tries(exc.minutes)
        except FreshLoginRequired as exc:
            error = holder_proof_refused(form, exc)
        else:
            session_keep_after_password_change(request, account)
            messages.success(request, _("Votre mot de passe a été modifié. Vos autres sessions ont été fermées."))
            return redirect("accounts:home")
    context = {"form": form, "error": error, "rules": COMPOSITION_RULES}
    return render(request, "accounts/password.html", context, status=400 if form.errors or error else 200)


@login_required
@require_POST
def end_other_sessions(request: HttpRequest) -> HttpResponse:
    ended = sessions_end_others(account=_account(request), keep=request.session.session_key, ip=client_ip(request))
    messages.success(
        request,
        ngettext(
            "%(n)s autre session a été fermée.",
            "%(n)s autres sessions ont été fermées.",
            ended,
        )
        % {"n": ended}
        if ended
        else _("Aucune autre session n'était ouverte."),
    )
    return redirect("accounts:home")


GROUPING_REFUSALS = {
    grouping.SameAccount: gettext_lazy(
        "C'est l'identifiant du compte avec lequel vous êtes connecté : saisissez celui de l'autre compte."
    ),
    grouping.NotGuardianAccount: gettext_lazy(
        "Seuls les comptes de responsable peuvent être regroupés. Un compte élève reste séparé."
    ),
    grouping.NamesDiffer: gettext_lazy(
        "Ce compte n'est pas au même nom et prénom que le vôtre : il ne peut pas être regroupé. "
        "Contactez l'établissement si c'est une erreur."
    ),
    grouping.LetterUnusable: gettext_lazy(
        "Ce courrier d'activation n'est plus valable. Contactez l'établissement pour en obtenir un nouveau."
    ),
    grouping.OtherDisabled: gettext_lazy("Ce compte est désactivé. Contactez l'établissement."),
    grouping.BirthDateNeeded: gettext_lazy(
        "Cet autre compte n'est pas encore activé : saisissez aussi la date de naissance d'un de ses enfants, "
        "comme à l'activation."
    ),
}
LETTER_BUDGET_SPENT = {
    LetterStatus.BLOCKED: gettext_lazy(
        "Trop de dates de naissance erronées ont été saisies avec le courrier de cet autre compte : il est bloqué. "
        "Contactez l'établissement pour en obtenir un nouveau."
    ),
    LetterStatus.PAUSED: gettext_lazy(
        "Trop de dates de naissance erronées ont été saisies aujourd'hui avec le courrier de cet autre compte. "
        "Réessayez demain ou contactez l'établissement."
    ),
}
WRONG_CREDENTIALS = gettext_lazy("Identifiant ou mot de passe incorrect.")


def _grouping_error(outcome: grouping.Outcome) -> str:
    match outcome:
        case grouping.LetterUnusable(status=LetterStatus.USED):
            return _("Ce courrier a déjà servi : saisissez le mot de passe choisi à l'activation de ce compte.")
        case grouping.AlreadyGrouped(into_identifier=into):
            return _("Ce compte est déjà regroupé avec le compte %(identifier)s.") % {"identifier": into}
        case Throttled(minutes=minutes):
            return too_many_tries(minutes)
        case grouping.WrongBirthDate(remaining=remaining):
            return ngettext(
                "La date de naissance ne correspond à aucun enfant de l'autre compte. Il vous reste %(remaining)s essai(s).",
                "La date de naissance ne correspond à aucun enfant de l'autre compte. Il vous reste %(remaining)s essai(s).",
                remaining,
            ) % {"remaining": remaining}
        case grouping.LetterUnusable(status=LetterStatus.BLOCKED | LetterStatus.PAUSED as status):
            return str(LETTER_BUDGET_SPENT[status])
    return str(GROUPING_REFUSALS.get(type(outcome), WRONG_CREDENTIALS))


@login_required
@require_http_methods(["GET", "POST"])
def group_accounts(request: HttpRequest) -> HttpResponse:
    """ "Ajouter des élèves depuis un autre compte" (guardians only)."""
    account = _account(request)
    if account.kind != AccountKind.GUARDIAN:
        messages.error(request, _("Le regroupement de comptes est réservé aux responsables d'élèves."))
        return redirect("accounts:home")
    form = GroupingForm(request.POST if request.method == "POST" else None)
    error = ""
    if request.method == "POST" and form.is_valid():
        outcome = grouping.account_group(
            keep=account,
            identifier=form.cleaned_data["identifier"],
            password=form.cleaned_data["password"],
            birth_date=form.cleaned_data["birth_date"],
            ip=client_ip(request),
        )
        if isinstance(outcome, grouping.Grouped):
            messages.success(
                request,
                _(
                    "Le compte %(identifier)s est regroupé avec le vôtre : ses élèves sont maintenant dans « Mes enfants »."
                )
                % {"identifier": outcome.absorbed_identifier},
            )
            return redirect("accounts:home")
        error = _grouping_error(outcome)
    status = 400 if form.errors or error else 200
    return render(request, "accounts/grouping.html", {"form": form, "error": error}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def export_data(request: HttpRequest) -> HttpResponse:
    """ "Télécharger mes données": the password again, then a JSON file (RGPD art. 15 and 20)."""
    account = _account(request)
    form = DataExportForm(request.POST if request.method == "POST" else None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            document = data_export(account=account, password=form.cleaned_data["password"], ip=client_ip(request))
        except WrongCurrentPassword:
            form.add_error("password", _("Le mot de passe est incorrect. Aucune donnée n'a été téléchargée."))
        except TooManyTries as exc:
            error = too_many_tries(exc.minutes)
        else:
            response = JsonResponse(document, json_dumps_params={"ensure_ascii": False, "indent": 2})
            filename = f"trousseau-{account.identifier}-{timezone.localdate():%Y-%m-%d}.json"
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
            response["Cache-Control"] = "no-store"
            return response
    status = 400 if form.errors or error else 200
    return render(request, "accounts/data_export.html", {"form": form, "error": error}, status=status)


@require_http_methods(["GET", "POST"])
def report_change(request: HttpRequest, token: str) -> HttpResponse:
    """ "Ce n'était pas moi", from the notice of an email or mobile change: GET shows a button (mail
    scanners prefetch links), POST undoes the change, ends every session and disables the password."""
    if request.method == "POST":
        account = change_notices.change_report(token, ip=client_ip(request))
        if account is None:
            return render(request, "accounts/report_invalid.html", status=400)
        return render(request, "accounts/report_done.html", {"identifier": account.identifier})
    report = change_notices.read_report(token)
    if report is None:
        return render(request, "accounts/report_invalid.html", status=400)
    return render(request, "accounts/report_confirm.html", {"what": report.what})


@login_required
def services(request: HttpRequest) -> HttpResponse:
    """ "Mes services": the school services registered with a home page, each opened by single sign-on."""
    return render(request, "accounts/services.html", {"services": continuation.listed()})


@require_POST
def password_check(request: HttpRequest) -> JsonResponse:
    """The live password help's question: would the page's form accept this password? (password-policy.js)

    The page sends the sealed context of its form (`passwords.check_token`: the personal words and
    dates it judges with) and, on the activation page, the birth date typed. Throttled per address;
    the help then simply never says "Fort".
    """
    if not passwords.live_check_allowed(address_block(client_ip(request))):
        return JsonResponse({"error": "throttled"}, status=429)
    context = passwords.read_check_token(request.POST.get("context", ""))
    if context is None:
        return JsonResponse({"error": "context"}, status=400)
    try:
        typed = date.fromisoformat(request.POST.get("birth_date", ""))
    except ValueError:
        typed = None
    password = request.POST.get("password", "")[: passwords.MAX_LENGTH + 1]
    verdict = passwords.live_verdict(context, password, typed_birth_date=typed)
    answer = JsonResponse({"accepted": verdict.accepted, "unmet": verdict.unmet, "others": verdict.others})
    answer["Cache-Control"] = "no-store"
    return answer
