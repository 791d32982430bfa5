"""The SAML side of trousseau/core/continuation.py: which SP a pending login answers, and the SPs listed.

A login at an SP's request continues at `…/SSO?execution=eNsM` (step M of flow N: `login`), whose
pending AuthnRequest lives in this browser's session (`state`): the execution names the SP while it
lives, and is gone once answered or dropped (five pending at most).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django.contrib.sessions.backends.base import SessionBase
from django.urls import reverse

from trousseau.core.continuation import Service
from trousseau.federation.saml import registry, state
from trousseau.federation.saml.models import ServiceProvider

PREFIX = "saml:"
SSO_ROUTES = ("saml:sso_redirect", "saml:sso_post", "saml:sso_unsolicited")


def _execution(next_url: str) -> str | None:
    parts = urlsplit(next_url)
    if parts.scheme or parts.netloc or parts.path not in {reverse(name) for name in SSO_ROUTES}:
        return None
    return parse_qs(parts.query).get("execution", [None])[0]


def _described(sp: ServiceProvider) -> Service:
    return Service(key=f"{PREFIX}{sp.pk}", name=sp.name or sp.entity_id, home_url=sp.home_url)


class SamlCatalogue:
    def service_for(self, next_url: str, session: SessionBase) -> Service | None:
        execution = _execution(next_url)
        found = state.entry(session, execution) if execution else None
        if found is None:
            return None
        pending, _csrf = found
        sp = registry.by_pk(pending.sp_id, only_enabled=True)  # on every mire of a login: kept per process
        return _described(sp) if sp else None

    def answerable(self, next_url: str, session: SessionBase) -> bool:
        execution = _execution(next_url)
        return bool(execution) and state.entry(session, str(execution)) is not None

    def service(self, key: str) -> Service | None:
        if not key.startswith(PREFIX) or not key[len(PREFIX) :].isdigit():
            return None
        sp = ServiceProvider.objects.filter(pk=int(key[len(PREFIX) :]), enabled=True).first()
        return _described(sp) if sp else None

    def listed(self) -> list[Service]:
        return [_described(sp) for sp in ServiceProvider.objects.filter(enabled=True).exclude(home_url="")]

    def origin(self, next_url: str) -> str | None:
        # A login for a SAML service continues at Trousseau's own SSO step; the answer then leaves by
        # the auto-POST page, whose form-action the page lifts itself (pages.post_page).
        return None


CATALOGUE = SamlCatalogue()
