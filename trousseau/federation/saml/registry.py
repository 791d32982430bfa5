"""Registered service providers as single sign-on reads them: once per process, then kept a while.

Every login read its SP's row two or three times (the request's check, the answer, the mire naming the
service): a wide row with the whole metadata text, half a millisecond each. A web process keeps each
SP it has read for `CACHE_SECONDS`, by entityID (enabled ones only) and by primary key, and forgets
them all as soon as an SP is saved or deleted in this process (`saml_sp_add`, `saml_sp_refresh`, the
admin, the tests). Another process sees a change (new metadata, a flag, an SP disabled) within
`CACHE_SECONDS` at most, as OpenID Connect clients (federation/oidc/clients.py, docs/saml.md): SPs are
registered by the operator, and an SP announces a new key in its metadata before it signs with it.

Single logout and the lists of services ("Mes services", the pages naming a service) read the
database as before: they are not on every login.
"""

from __future__ import annotations

import time

from django.db.models.signals import post_delete, post_save

from trousseau.federation.saml.models import ServiceProvider

CACHE_SECONDS = 30.0
_clock = time.monotonic  # a name of this module's own, so that a test can move it on

# (row, time.monotonic() when read); a row found by entityID is also kept by primary key.
_by_entity_id: dict[str, tuple[ServiceProvider, float]] = {}
_by_pk: dict[int, tuple[ServiceProvider, float]] = {}


def _fresh(entry: tuple[ServiceProvider, float] | None) -> ServiceProvider | None:
    if entry is None or _clock() - entry[1] >= CACHE_SECONDS:
        return None
    return entry[0]


def _keep(sp: ServiceProvider) -> ServiceProvider:
    entry = (sp, _clock())
    _by_pk[sp.pk] = entry
    if sp.enabled:
        _by_entity_id[sp.entity_id] = entry
    return sp


def enabled(entity_id: str) -> ServiceProvider | None:
    """The enabled SP of this entityID, or None (an unknown or disabled SP is not kept: it is read again)."""
    if not entity_id:
        return None
    sp = _fresh(_by_entity_id.get(entity_id))
    if sp is not None:
        return sp
    found = ServiceProvider.objects.filter(entity_id=entity_id, enabled=True).first()
    return _keep(found) if found is not None else None


def by_pk(pk: int, *, only_enabled: bool = False) -> ServiceProvider | None:
    """The SP of this primary key (a pending request's, an answer's), or None when it is gone or disabled."""
    sp = _fresh(_by_pk.get(pk))
    if sp is None:
        found = ServiceProvider.objects.filter(pk=pk).first()
        if found is None:
            return None
        sp = _keep(found)
    return sp if sp.enabled or not only_enabled else None


def forget_all(**_: object) -> None:
    """An SP changed or went in this process: read them all again (a rare event)."""
    _by_entity_id.clear()
    _by_pk.clear()


post_save.connect(forget_all, sender=ServiceProvider, dispatch_uid="saml-registry-saved")
post_delete.connect(forget_all, sender=ServiceProvider, dispatch_uid="saml-registry-deleted")
