"""A school's staff ("Personnel"): the head adds and removes secretaries and readers; the académie operator
adds any school role, resets an access (lost second factor) and removes one. Rules: `services.staff`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from trousseau.audit.events import EventTag
from trousseau.console.audit import staff_audit
from trousseau.console.conf import enrolment_validity
from trousseau.console.forms import StaffAddForm, staff_role_name
from trousseau.console.models import StaffMember
from trousseau.console.services import staff as service
from trousseau.console.views.common import confirmation_page, confirmed, context, school_view
from trousseau.core.http import client_ip
from trousseau.directory.models import School


def _refuse(request: HttpRequest, staff: StaffMember, school: School) -> HttpResponse:
    """403, audited as every console refusal: this person may not manage this school's staff or member."""
    staff_audit(
        EventTag.CONSOLE_ACCESS_DENIED,
        staff=staff,
        school=staff.school,
        ip=client_ip(request),
        reason="staff_admin",
        requested_school=school.uai,
        path=request.path[:200],
        method=request.method,
    )
    return render(request, "console/staff_forbidden.html", context(staff, school), status=403)


def _hours() -> int:
    return int(enrolment_validity().total_seconds() // 3600)


def _page(
    request: HttpRequest, staff: StaffMember, school: School, form: StaffAddForm, status: int = 200
) -> HttpResponse:
    members = [
        {
            "member": m,
            "role": m.role_label,
            "can_reset": service.can_reset(staff, m),
            "can_remove": service.can_remove(staff, m),
        }
        for m in service.school_staff(school)
    ]
    ctx = context(staff, school, members=members, form=form, hours=_hours())
    return render(request, "console/staff.html", ctx, status=status)


def _form(staff: StaffMember, school: School, data: Any = None) -> StaffAddForm:
    return StaffAddForm(data, roles=tuple(service.grantable_roles(staff)), school=school)


@school_view()
def staff_list(request: HttpRequest, staff: StaffMember, school: School) -> HttpResponse:
    if not service.manages_staff(staff, school):
        return _refuse(request, staff, school)
    return _page(request, staff, school, _form(staff, school))


def _invitation_page(
    request: HttpRequest, staff: StaffMember, school: School, invitation: service.Invitation, *, reset: bool
) -> HttpResponse:
    """The enrolment link, shown once on this answer only (never stored in clear, never logged)."""
    link = settings.PUBLIC_URL.rstrip("/") + reverse("console:enrol_link", args=[invitation.token])
    member = invitation.staff
    ctx = context(staff, school, member=member, link=link, hours=_hours(), reset=reset)
    return render(request, "console/staff_invitation.html", ctx)


@school_view()
def staff_add(request: HttpRequest, staff: StaffMember, school: School) -> HttpResponse:
    """Check the form, then say what the addition will do; once confirmed, create and show the link."""
    if not service.manages_staff(staff, school):
        return _refuse(request, staff, school)
    if request.method != "POST":
        return redirect("console:staff", uai=school.uai)
    return _add(request, staff, school)


def _add(request: HttpRequest, staff: StaffMember, school: School) -> HttpResponse:
    ip = client_ip(request)
    form = _form(staff, school, request.POST)
    if not form.is_valid():
        service.staff_refusal(staff, school, reason="form", fields=sorted(form.errors), ip=ip)
        return _page(request, staff, school, form, status=400)
    data = form.cleaned_data
    try:
        if not confirmed(request):
            service.check_new_staff(actor=staff, school=school, email=data["email"], role=data["role"])
            return _confirm_add(request, staff, school, data)
        invitation = service.staff_add(actor=staff, school=school, ip=ip, **data)
    except service.StaffOutOfReach:
        return _refuse(request, staff, school)
    except service.StaffRefused as exc:
        if not confirmed(request):  # staff_add audits its own refusals
            service.staff_refusal(staff, school, reason=exc.reason, fields=[exc.field], ip=ip, email=data["email"])
        form.add_error(exc.field, exc.message)
        return _page(request, staff, school, form, status=400)
    return _invitation_page(request, staff, school, invitation, reset=False)


def _confirm_add(request: HttpRequest, staff: StaffMember, school: School, data: dict[str, Any]) -> HttpResponse:
    name = f"{data['first_name']} {data['last_name']}"
    role = staff_role_name(data["role"], school)
    effects = [
        _("Un accès « %(role)s » est créé pour %(name)s (%(email)s) à %(school)s.")
        % {"role": role, "name": name, "email": data["email"], "school": school.name},
        _(
            "Un lien d'inscription à usage unique, valable %(hours)s heures, s'affiche une seule fois : remettez-le "
            "à la personne. Avec ce lien, elle choisit son mot de passe et enregistre son application "
            "d'authentification."
        )
        % {"hours": _hours()},
    ]
    return confirmation_page(
        request,
        staff,
        school,
        title=_("Créer un accès à la console ?"),
        effects=effects,
        button=_("Créer l'accès"),
        action=reverse("console:staff_add", args=[school.uai]),
        cancel=reverse("console:staff", args=[school.uai]),
        hidden=sorted(data.items()),
    )


def _member(school: School, member_id: int) -> StaffMember:
    member = service.staff_member_in(school, member_id)
    if member is None:
        raise Http404
    return member


@require_http_methods(["GET", "POST"])
@school_view()
def staff_reset(request: HttpRequest, staff: StaffMember, school: School, member_id: int) -> HttpResponse:
    """GET says what a reset does; the confirmed POST does it and shows the new enrolment link."""
    member = _member(school, member_id)
    if not service.can_reset(staff, member):
        return _refuse(request, staff, school)
    if confirmed(request):
        try:
            invitation = service.staff_reset(actor=staff, member=member, ip=client_ip(request))
        except service.StaffOutOfReach:
            return _refuse(request, staff, school)
        return _invitation_page(request, staff, school, invitation, reset=True)
    effects = [
        _("Le mot de passe et l'application d'authentification (second facteur) de %(name)s cessent de fonctionner.")
        % {"name": member.full_name},
        _("Ses sessions ouvertes dans la console sont fermées."),
        _(
            "Un nouveau lien d'inscription à usage unique, valable %(hours)s heures, s'affiche une seule fois : "
            "remettez-le à la personne. Avec ce lien, elle choisit un nouveau mot de passe et enregistre à nouveau "
            "son application d'authentification."
        )
        % {"hours": _hours()},
    ]
    if not member.is_active:
        effects.append(_("Son accès, qui avait été retiré, est rétabli."))
    title = _("Réinitialiser l'accès de %(name)s ?") % {"name": member.full_name}
    return _confirm_member(
        request,
        staff,
        school,
        member,
        url="console:staff_reset",
        title=title,
        effects=effects,
        button=_("Réinitialiser l'accès"),
    )


@require_http_methods(["GET", "POST"])
@school_view()
def staff_remove(request: HttpRequest, staff: StaffMember, school: School, member_id: int) -> HttpResponse:
    """GET says what withdrawing the access does; the confirmed POST does it."""
    member = _member(school, member_id)
    if not service.can_remove(staff, member):
        return _refuse(request, staff, school)
    if confirmed(request):
        try:
            service.staff_remove(actor=staff, member=member, ip=client_ip(request))
        except service.StaffOutOfReach:  # the member changed since the page was read
            return _refuse(request, staff, school)
        messages.success(request, _("L'accès de %(name)s a été retiré.") % {"name": member.full_name})
        return redirect("console:staff", uai=school.uai)
    effects = [
        _("%(name)s ne peut plus se connecter à la console ; ses sessions ouvertes sont fermées.")
        % {"name": member.full_name},
        _("Un lien d'inscription pas encore utilisé cesse de fonctionner."),
        _("Son nom reste dans le journal. Un opérateur académique peut rétablir l'accès en le réinitialisant."),
    ]
    if service.is_last_head(member):
        effects.append(_("L'établissement n'aura plus de chef d'établissement (ou de directeur) dans la console."))
    title = _("Retirer l'accès de %(name)s ?") % {"name": member.full_name}
    return _confirm_member(
        request,
        staff,
        school,
        member,
        url="console:staff_remove",
        title=title,
        effects=effects,
        button=_("Retirer l'accès"),
    )


def _confirm_member(
    request: HttpRequest, staff: StaffMember, school: School, member: StaffMember, *, url: str, **page: Any
) -> HttpResponse:
    """The page that says what a reset or a removal will do (`title`, `effects`, `button`)."""
    action = reverse(url, args=[school.uai, member.pk])
    cancel = reverse("console:staff", args=[school.uai])
    return confirmation_page(request, staff, school, action=action, cancel=cancel, **page)
