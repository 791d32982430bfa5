"""Import of school records: upload, then a background check (dry run) with the error report,
confirmation, then the background import; each job is followed on its own page."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from trousseau.console import uploads
from trousseau.console.forms import ImportForm
from trousseau.console.models import ImportJobAction, StaffMember
from trousseau.console.selectors import import_preview
from trousseau.console.services import import_jobs, imports
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
        files = imports.read_uploads(
            pupils=form.cleaned_data["pupils"], guardians=form.cleaned_data["guardians"], mode=form.cleaned_data["mode"]
        )
    except imports.ImportRefused:
        return _too_large(request, staff, school)
    job = import_jobs.start_check(staff=staff, school=school, files=files, ip=client_ip(request))
    return redirect("console:import_job", uai=school.uai, job_id=job.pk)


@school_view(act=True)
def confirm(request: HttpRequest, staff: StaffMember, school: School, pending_id: uuid.UUID) -> HttpResponse:
    pending = imports.pending_for(staff, school, pending_id)
    if pending is None:
        raise Http404
    confirmation = imports.confirmation_from(request.POST)
    job = import_jobs.start_apply(
        staff=staff, school=school, pending=pending, ip=client_ip(request), confirmation=confirmation
    )
    return redirect("console:import_job", uai=school.uai, job_id=job.pk)


@school_view()
def job_page(request: HttpRequest, staff: StaffMember, school: School, job_id: uuid.UUID) -> HttpResponse:
    """While the worker runs: the progress page, which polls `job_status`. Then what the job found."""
    job = import_jobs.job_for(staff, school, job_id)
    if job is None:
        raise Http404
    if not job.finished:
        ctx = context(staff, school, job=job, status=import_jobs.status(job))
        return render(request, "console/import_running.html", ctx)
    result = import_jobs.result_of(job)
    if result is None:  # refused as a whole: the upload form again, with why
        ctx = context(staff, school, form=ImportForm(), error=job.error)
        return render(request, "console/import.html", ctx, status=400)
    if job.action == ImportJobAction.CHECK:
        ctx = context(
            staff,
            school,
            result=result,
            pending=job.pending,
            share_limit=imports.share_limit_percent(),
            ask_share=imports.asks_share(result),
            classes=import_preview.by_class(result),
        )
        return render(request, "console/import_preview.html", ctx, status=200 if result.ok else 400)
    ctx = context(staff, school, result=result)
    return render(request, "console/import_done.html", ctx, status=200 if result.applied else 400)


@school_view()
def job_status(request: HttpRequest, staff: StaffMember, school: School, job_id: uuid.UUID) -> HttpResponse:
    job = import_jobs.job_for(staff, school, job_id)
    if job is None:
        raise Http404
    return JsonResponse(import_jobs.status(job), headers={"Cache-Control": "no-store"})
