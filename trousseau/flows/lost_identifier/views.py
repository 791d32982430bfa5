"""'Identifiant perdu': one page, the same answer whether or not anything matched."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from trousseau.core.http import client_ip
from trousseau.flows.lost_identifier import transitions as lost_identifier
from trousseau.flows.lost_identifier.forms import LostIdentifierForm
from trousseau.flows.steps.ending import continue_url


@require_http_methods(["GET", "POST"])
def identifier_lost(request: HttpRequest) -> HttpResponse:
    form = LostIdentifierForm(request.POST if request.method == "POST" else None)
    # "Retour à la page de connexion": the login page of the service this browser was on its way to.
    back = continue_url(request, fallback="flows:login")
    if request.method == "POST" and form.is_valid():
        data, ip = form.cleaned_data, client_ip(request)
        if data["channel"] == "email":
            lost_identifier.by_email(email=data["destination"], ip=ip)
        else:
            lost_identifier.by_mobile(phone=data["destination"], ip=ip)
        return render(request, "flows/lost_identifier/identifier_sent.html", {"back": back})
    return render(request, "flows/lost_identifier/identifier.html", {"form": form, "back": back})
