"""Accounts of a school: search, one account, and the actions on it."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from trousseau.accounts.models import Account, AccountState
from trousseau.console.forms import ContactForm, SearchForm
from trousseau.console.models import StaffMember
from trousseau.console.selectors import accounts as select
from trousseau.console.services import actions, letters
from trousseau.console.views.common import confirmation_page, confirmed, context, forbidden, school_view
from trousseau.core.http import client_ip
from trousseau.directory.models import School


def _account(school: School, account_id: int) -> Account:
    """An account of this school; another school's account is "not found" from here."""
    account = select.account_in_school(school, account_id)
    if account is None:
        raise Http404
    return account


def pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@school_view()
def search(request: HttpRequest, staff: StaffMember, school: School) -> HttpResponse:
    form = SearchForm(request.GET or None, classes=select.school_classes(school))
    result = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        result = select.search_accounts(
            school, query=data["q"], kind=data["kind"], state=data["state"], class_name=data["classe"]
        )
    return render(request, "console/search.html", context(staff, school, form=form, result=result))


@school_view()
def detail(request: HttpRequest, staff: StaffMember, school: School, account_id: int) -> HttpResponse:
    account = _account(school, account_id)
    info = select.account_detail(school, account)
    return render(
        request,
        "console/account.html",
        context(staff, school, info=info),
    )


# What each action does, said before it is done: the confirmation page lists it (issue #19).
CONFIRMATIONS = {
    "reset": (
        gettext_lazy("Réinitialiser le compte et imprimer un nouveau courrier ?"),
        [
            gettext_lazy("Le mot de passe actuel cesse de fonctionner."),
            gettext_lazy("Les sessions ouvertes sur tous les appareils sont fermées."),
            gettext_lazy("Un nouveau courrier est imprimé : les courriers précédents ne peuvent plus servir."),
            gettext_lazy("La famille réactive le compte avec ce courrier et la date de naissance de l'enfant."),
        ],
        gettext_lazy("Réinitialiser et imprimer le courrier"),
    ),
    "disable": (
        gettext_lazy("Désactiver le compte ?"),
        [
            gettext_lazy("Plus personne ne peut se connecter avec ce compte ni l'activer."),
            gettext_lazy("Les sessions ouvertes sur tous les appareils sont fermées."),
            gettext_lazy("Le mot de passe et les courriers sont gardés : le compte peut être réactivé plus tard."),
        ],
        gettext_lazy("Désactiver le compte"),
    ),
}


@school_view()
def confirm(request: HttpRequest, staff: StaffMember, school: School, account_id: int, action: str) -> HttpResponse:
    """The page that says what a reset or a disable will do, with the button that does it."""
    if not staff.can_act:
        return forbidden(request, staff, reason="read_only", uai=school.uai)
    account = _account(school, account_id)
    title, effects, button = CONFIRMATIONS[action]
    intro = _("Compte de %(name)s (identifiant %(identifier)s) :") % {
        "name": f"{account.first_name} {account.last_name}",
        "identifier": account.identifier,
    }
    return confirmation_page(
        request,
        staff,
        school,
        title=str(title),
        intro=intro,
        effects=[str(effect) for effect in effects],
        button=str(button),
        action=reverse(f"console:{action}", args=[school.uai, account.pk]),
        cancel=reverse("console:account", args=[school.uai, account.pk]),
    )


@school_view(act=True)
def reset(request: HttpRequest, staff: StaffMember, school: School, account_id: int) -> HttpResponse:
    """Reset the account, once confirmed; its new letter comes back as a PDF download."""
    account = _account(school, account_id)
    if not confirmed(request):  # a form that skipped the confirmation page: say what it would do first
        return redirect("console:reset_confirm", uai=school.uai, account_id=account.pk)
    try:
        pdf = letters.reset_and_print(staff=staff, school=school, account=account, ip=client_ip(request))
    except actions.ActionRefused as exc:
        messages.error(request, str(exc.message))
        return redirect("console:account", uai=school.uai, account_id=account.pk)
    return pdf_response(pdf, f"courrier-{account.identifier}.pdf")


@school_view(act=True)
def letter(request: HttpRequest, staff: StaffMember, school: School, account_id: int) -> HttpResponse:
    """A new letter for an account not yet activated (lost or expired letter)."""
    account = _account(school, account_id)
    if account.state != AccountState.PROVISIONAL:
        messages.error(
            request, _("Ce compte n'attend pas d'activation : réinitialisez-le pour lui donner un nouveau courrier.")
        )
        return redirect("console:account", uai=school.uai, account_id=account.pk)
    return _letter(staff, school, account, request)


def _letter(staff: StaffMember, school: School, account: Account, request: HttpRequest) -> HttpResponse:
    pdf = letters.print_pdf(staff=staff, school=school, accounts=[account], scope="account", ip=client_ip(request))
    return pdf_response(pdf, f"courrier-{account.identifier}.pdf")


@school_view(act=True)
def pupil_letters(request: HttpRequest, staff: StaffMember, school: School, account_id: int) -> HttpResponse:
    """Letters for a pupil and their legal guardians, those not activated yet, in one PDF."""
    account = _account(school, account_id)
    if account.pupil is None:
        raise Http404
    accounts = letters.accounts_of_pupil(account.pupil)
    if not accounts:
        messages.info(request, _("Ni l'élève ni ses responsables n'attendent d'activation : il n'y a rien à imprimer."))
        return redirect("console:account", uai=school.uai, account_id=account.pk)
    pdf = letters.print_pdf(staff=staff, school=school, accounts=accounts, scope="pupil", ip=client_ip(request))
    return pdf_response(pdf, f"courriers-{account.pupil.ine}.pdf")


@school_view(act=True)
def disable(request: HttpRequest, staff: StaffMember, school: School, account_id: int) -> HttpResponse:
    account = _account(school, account_id)
    if not confirmed(request):
        return redirect("console:disable_confirm", uai=school.uai, account_id=account.pk)
    try:
        actions.account_disable(staff=staff, school=school, account=account, ip=client_ip(request))
    except actions.ActionRefused as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Le compte a été désactivé. Ses sessions ont été fermées."))
    return redirect("console:account", uai=school.uai, account_id=account.pk)


@school_view(act=True)
def enable(request: HttpRequest, staff: StaffMember, school: School, account_id: int) -> HttpResponse:
    account = _account(school, account_id)
    try:
        actions.account_enable(staff=staff, school=school, account=account, ip=client_ip(request))
    except actions.ActionRefused as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Le compte a été réactivé."))
    return redirect("console:account", uai=school.uai, account_id=account.pk)


@require_http_methods(["GET", "POST"])
@school_view()
def contact(
    request: HttpRequest, staff: StaffMember, school: School, account_id: int, guardian_id: int
) -> HttpResponse:
    """A guardian's mobile and email as the school records them (the number SMS journeys match)."""
    account = _account(school, account_id)
    guardian = select.guardian_in_account(school, account, guardian_id)
    if guardian is None:
        raise Http404
    if request.method == "POST" and not staff.can_act:
        return forbidden(request, staff, reason="read_only", uai=school.uai)
    initial = {"mobile": guardian.mobile, "email": guardian.email}
    form = ContactForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.guardian_contact_update(
                staff=staff,
                school=school,
                guardian=guardian,
                account=account,
                mobile=form.cleaned_data["mobile"],
                email=form.cleaned_data["email"],
                ip=client_ip(request),
            )
        except actions.ActionRefused as exc:
            form.add_error("mobile", str(exc.message))
        else:
            messages.success(request, _("Les coordonnées du responsable ont été enregistrées."))
            return redirect("console:account", uai=school.uai, account_id=account.pk)
    ctx = context(staff, school, form=form, account=account, guardian=guardian)
    return render(request, "console/contact.html", ctx, status=400 if form.errors else 200)
