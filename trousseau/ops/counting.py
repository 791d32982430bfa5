"""Counting events where they already happen: the audit trail, delivery outcomes, token issuance.

Every security step writes an AuditEvent, so one receiver on its creation feeds the login, journey,
SAML and OIDC counters, by tag. Rows bulk-created by directory imports send no signal and are not
counted (they are account state changes, not traffic).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.http import HttpRequest
from oauth2_provider.signals import app_authorized

from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.flows.models import FlowKind
from trousseau.notifications.signals import delivery_attempted
from trousseau.ops import metrics

SUCCESS, FAILURE = "success", "failure"
PASSWORD, FRANCECONNECT, CONSOLE = "password", "franceconnect", "console"

# tag -> (outcome, reason, method); LOGIN_SUCCESS and LOGIN_THROTTLED read their data (below).
LOGIN_TAGS: dict[str, tuple[str, str, str]] = {
    EventTag.LOGIN_PROVISIONAL: (SUCCESS, "provisional", PASSWORD),
    EventTag.LOGIN_FAILURE: (FAILURE, "bad_credentials", PASSWORD),
    EventTag.LOGIN_LETTER_UNUSABLE: (FAILURE, "letter_unusable", PASSWORD),
    EventTag.LOGIN_MERGED: (FAILURE, "merged", PASSWORD),
    EventTag.LOGIN_WRONG_PROFILE: (FAILURE, "wrong_profile", PASSWORD),
    EventTag.FRANCECONNECT_ACCOUNT_UNUSABLE: (FAILURE, "account_unusable", FRANCECONNECT),
    EventTag.FRANCECONNECT_REFUSED: (FAILURE, "refused", FRANCECONNECT),
    EventTag.FRANCECONNECT_CANCELLED: (FAILURE, "cancelled", FRANCECONNECT),
    EventTag.FRANCECONNECT_PROVIDER_ERROR: (FAILURE, "provider_error", FRANCECONNECT),
    EventTag.FRANCECONNECT_FIRST_LOGIN_THROTTLED: (FAILURE, "throttled", FRANCECONNECT),
    EventTag.CONSOLE_LOGIN_SUCCESS: (SUCCESS, "active", CONSOLE),
    EventTag.CONSOLE_LOGIN_FAILURE: (FAILURE, "bad_credentials", CONSOLE),
    EventTag.CONSOLE_LOGIN_THROTTLED: (FAILURE, "throttled", CONSOLE),
    EventTag.CONSOLE_TOTP_FAILURE: (FAILURE, "bad_totp", CONSOLE),
    EventTag.CONSOLE_TOTP_REUSED: (FAILURE, "totp_reused", CONSOLE),
}
# The audit step that ends each journey (the FranceConnect first login is a LOGIN_SUCCESS with first=True).
COMPLETION_TAGS: dict[str, str] = {
    EventTag.ACTIVATION_BY_LETTER_SUCCESS: FlowKind.ACTIVATION_BY_LETTER,
    EventTag.SELF_REGISTRATION_SUCCESS: FlowKind.SELF_REGISTRATION,
    EventTag.LOST_PASSWORD_SUCCESS: FlowKind.LOST_PASSWORD,
    EventTag.CHANGE_MOBILE_SUCCESS: FlowKind.CHANGE_MOBILE,
    EventTag.EMAIL_VERIFICATION_SUCCESS: "email_verification",
    EventTag.ACCOUNT_MERGED: "grouping",
}
SAML_TAGS: dict[str, str] = {EventTag.SAML_ASSERTION_ISSUED: "issued", EventTag.SAML_REFUSED: "refused"}


def count_audit_event(
    sender: type[AuditEvent], instance: AuditEvent, *, created: bool, using: str = "default", **_: Any
) -> None:
    """Counted once the row is committed, so that the counters agree with the audit trail."""
    if created:
        tag, data = str(instance.tag), dict(instance.data or {})
        transaction.on_commit(lambda: count(tag, data), using=using)


def count(tag: str, data: dict[str, Any]) -> None:
    metrics.AUDIT_EVENTS.labels(tag).inc()
    if tag == EventTag.LOGIN_SUCCESS:
        method = FRANCECONNECT if data.get("method") == FRANCECONNECT else PASSWORD
        metrics.LOGINS.labels(SUCCESS, "active", method).inc()
        if data.get("first"):
            metrics.FLOW_COMPLETIONS.labels(FlowKind.FRANCECONNECT_FIRST_LOGIN).inc()
    elif tag == EventTag.LOGIN_THROTTLED:
        metrics.LOGINS.labels(FAILURE, "locked" if data.get("locked") else "throttled", PASSWORD).inc()
    elif tag in LOGIN_TAGS:
        metrics.LOGINS.labels(*LOGIN_TAGS[tag]).inc()
    elif tag in COMPLETION_TAGS:
        metrics.FLOW_COMPLETIONS.labels(COMPLETION_TAGS[tag]).inc()
    elif tag in SAML_TAGS:
        metrics.SAML_RESPONSES.labels(SAML_TAGS[tag]).inc()
    elif tag == EventTag.OIDC_CODE_ISSUED:
        metrics.OIDC_CODES.inc()


def count_delivery(sender: object, *, channel: str, outcome: str, **_: Any) -> None:
    metrics.NOTIFICATIONS.labels(channel, outcome).inc()


def count_token(sender: object, request: HttpRequest, **_: Any) -> None:
    grant = request.POST.get("grant_type", "")
    metrics.OIDC_TOKENS.labels(grant if grant in {"authorization_code", "refresh_token"} else "other").inc()


def connect() -> None:
    post_save.connect(count_audit_event, sender=AuditEvent, dispatch_uid="ops.count_audit_event")
    delivery_attempted.connect(count_delivery, dispatch_uid="ops.count_delivery")
    app_authorized.connect(count_token, dispatch_uid="ops.count_token")
