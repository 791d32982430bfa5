"""Import of school records: upload, dry-run preview with the error report, confirmation."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from trousseau.console import uploads
from trousseau.console.forms import ImportForm
from trousseau.console.models import StaffMember
from trousseau.console.services import imports
from trousseau.console.views.common import context, forbidden, school_view
from trousseau.core.http import client_ip
from trousseau.directory.models import School

# Both files at their cap, plus the form's other fields and the multipart boundaries.
MARGIN = 64 * 1024


def _request_cap() -> int:
    cap: int = settings.IMPORT_MAX_UPLOAD_BYTES
    return 2 * cap + MARGIN


@csrf_exempt  # the upload cap must be set before the CSRF check reads the body; checked just below
@school_view()
def import_view(request: HttpRequest, staff: StaffMember, school: School) -> HttpResponse:
    if request.method == "POST":
        if not staff.can_act:
            return forbidden(request, staff, reason="read_only", uai=school.uai)
        if uploads.declared_too_large(request, _request_cap()):
            return _too_large(request, staff, school)
        handler = uploads.install(request, _request_cap())
        return _checked(request, staff, school, handler)
    return render(request, "console/import.html", context(staff, school, form=ImportForm()))


def _too_large(request: HttpRequest, staff: StaffMember, school: School) -> HttpResponse:
    declared = str(request.META.get("CONTENT_LENGTH") or "")[:20]
    error = imports.refuse_too_large(staff=staff, school=school, declared=declared, ip=client_ip(request))
    ctx = context(staff, school, form=ImportForm(), error=error)
    return render(request, "console/import.html", ctx, status=413)


@csrf_protect
def _checked(
    request: HttpRequest, staff: StaffMember, school: School, handler: uploads.CappedUploadHandler
) -> HttpResponse:
    form = ImportForm(request.POST, request.FILES)
    if handler.exceeded:
        return _too_large(request, staff, school)
    if not form.is_valid():
        return render(request, "console/import.html", context(staff, school, form=form), status=400)
    try:
        checked = imports.check(
            staff=staff,
            school=school,
            pupils=form.cleaned_data["pupils"],
            guardians=form.cleaned_data["guardians"],
            ip=client_ip(request),
        )
    except imports.ImportRefused as exc:
        ctx = context(staff, school, form=ImportForm(), error=exc.message)
        return render(request, "console/import.html", ctx, status=413 if exc.too_large else 400)
    ctx = context(staff, school, result=checked.result, pending=checked.pending)
    return render(request, "console/import_preview.html", ctx, status=200 if checked.result.ok else 400)


@school_view(act=True)
def confirm(request: HttpRequest, staff: StaffMember, school: School, pending_id: uuid.UUID) -> HttpResponse:
    pending = imports.pending_for(staff, school, pending_id)
    if pending is None:
        raise Http404
    try:
        result = imports.apply(staff=staff, school=school, pending=pending, ip=client_ip(request))
    except imports.ImportRefused as exc:
        messages.error(request, exc.message)
        return redirect("console:import", uai=school.uai)
    ctx = context(staff, school, result=result)
    return render(request, "console/import_done.html", ctx, status=200 if result.applied else 400)
