"""The school picker, a school's home page and its journal."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from trousseau.console.forms import SchoolContactForm
from trousseau.console.models import StaffMember
from trousseau.console.scoping import schools_in_scope
from trousseau.console.selectors import followup, journal
from trousseau.console.selectors.accounts import open_contests
from trousseau.console.services.actions import school_contact_set
from trousseau.console.views.common import context, school_view, staff_required
from trousseau.core.http import client_ip
from trousseau.directory.models import School


@staff_required
def home(request: HttpRequest, staff: StaffMember) -> HttpResponse:
    """Straight to the school for school staff; the picker for those who see several."""
    schools = schools_in_scope(staff)
    if schools.count() == 1:
        only = schools.get()
        return redirect("console:school", uai=only.uai)
    return redirect("console:schools")


@staff_required
def picker(request: HttpRequest, staff: StaffMember) -> HttpResponse:
    schools = schools_in_scope(staff)
    query = request.GET.get("q", "").strip()[:100]
    if query:
        schools = schools.filter(name__icontains=query) | schools.filter(uai__iexact=query)
    lines = followup.per_school(schools)
    return render(request, "console/schools.html", context(staff, lines=lines, query=query))


@school_view()
def school_home(request: HttpRequest, staff: StaffMember, school: School) -> HttpResponse:
    summary = followup.school_total(school)
    contests = open_contests(school).count()
    contact = SchoolContactForm(
        initial={"phone": school.contact_phone, "email": school.contact_email, "hours": school.contact_hours}
    )
    ctx = context(staff, school, summary=summary, contests=contests, contact=contact)
    return render(request, "console/school.html", ctx)


@school_view(act=True)
def contact_view(request: HttpRequest, staff: StaffMember, school: School) -> HttpResponse:
    """The school's contact printed on the letters: changed by its staff, audited; bad input changes nothing."""
    form = SchoolContactForm(request.POST)
    if not form.is_valid():
        summary = followup.school_total(school)
        ctx = context(staff, school, summary=summary, contests=open_contests(school).count(), contact=form)
        return render(request, "console/school.html", ctx, status=400)
    data = form.cleaned_data
    school_contact_set(
        staff=staff, school=school, phone=data["phone"], email=data["email"], hours=data["hours"], ip=client_ip(request)
    )
    messages.success(request, _("Le contact imprimé sur les courriers a été enregistré."))
    return redirect("console:school", uai=school.uai)


@school_view()
def journal_view(request: HttpRequest, staff: StaffMember, school: School) -> HttpResponse:
    lines = journal.school_journal(school)
    return render(request, "console/journal.html", context(staff, school, lines=lines))
