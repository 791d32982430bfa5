"""The school picker, a school's home page and its journal."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from trousseau.console.models import StaffMember
from trousseau.console.scoping import schools_in_scope
from trousseau.console.selectors import followup, journal
from trousseau.console.selectors.accounts import open_contests
from trousseau.console.views.common import context, school_view, staff_required
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
    return render(request, "console/school.html", context(staff, school, summary=summary, contests=contests))


@school_view()
def journal_view(request: HttpRequest, staff: StaffMember, school: School) -> HttpResponse:
    lines = journal.school_journal(school)
    return render(request, "console/journal.html", context(staff, school, lines=lines))
