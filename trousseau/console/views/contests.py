"""Links families reported as wrong ("Je ne suis pas le représentant légal de cet élève")."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from trousseau.console.forms import ResolveForm
from trousseau.console.models import StaffMember
from trousseau.console.selectors.accounts import contest_in_school, open_contests
from trousseau.console.selectors.journal import resolved_contests
from trousseau.console.services import actions
from trousseau.console.views.common import context, safe_next, school_view
from trousseau.core.http import client_ip
from trousseau.directory.models import School


@school_view()
def contests(request: HttpRequest, staff: StaffMember, school: School) -> HttpResponse:
    """The links to look at, or (`?etat=resolus`) the decisions taken, with who reported and who decided."""
    if request.GET.get("etat") == "resolus":
        ctx = context(staff, school, resolved=resolved_contests(school), showing_resolved=True)
        return render(request, "console/contests.html", ctx)
    rows = list(open_contests(school))
    return render(request, "console/contests.html", context(staff, school, contests=rows, form=ResolveForm()))


@school_view(act=True)
def resolve(request: HttpRequest, staff: StaffMember, school: School, contest_id: int) -> HttpResponse:
    contest = contest_in_school(school, contest_id)
    if contest is None:
        raise Http404
    form = ResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choisissez si le lien est juste ou faux."))
        return redirect(safe_next(request))
    remove = form.cleaned_data["decision"] == "remove"
    try:
        actions.contested_link_resolve(
            staff=staff, school=school, contest=contest, remove=remove, ip=client_ip(request)
        )
    except actions.ActionRefused as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            _("Le lien a été supprimé.")
            if remove
            else _("Le lien a été confirmé : l'enfant apparaît de nouveau sur le compte du responsable."),
        )
    return redirect(safe_next(request))
