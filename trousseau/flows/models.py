"""The persisted journey row (Kratos' flow object, on Django)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import F
from django.utils import timezone

from trousseau.core.secrets import keyed_digest
from trousseau.flows.exceptions import FlowExpired, ForeignFlow, WrongState
from trousseau.flows.machines import FlowKind, FlowState, machine

if TYPE_CHECKING:
    from trousseau.accounts.models import Account

# The kinds and states are declared with their machines; the journeys and views take them from here.
__all__ = ["CodePurpose", "Flow", "FlowKind", "FlowQuerySet", "FlowState", "OneTimeCode", "binding_digest"]


def binding_digest(browser_secret: str) -> str:
    return keyed_digest(browser_secret, purpose="flow-binding")


class FlowQuerySet(models.QuerySet["Flow"]):
    def start(self, *, kind: FlowKind, **fields: Any) -> Flow:
        """A new flow of `kind`, in the first state of its table."""
        return self.create(kind=kind, state=machine(kind).initial, **fields)

    def advance(self, *, kind: FlowKind, source: FlowState, target: FlowState) -> int:
        """`Flow.advance` for every flow of `kind` in `source` here, in one UPDATE; returns how many moved."""
        machine(kind).check(kind, source, target)
        return self.filter(kind=kind, state=source).update(state=target)


class Flow(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=32, choices=FlowKind.choices)
    state = models.CharField(max_length=32, choices=FlowState.choices)
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="flows"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    resend_count = models.PositiveSmallIntegerField(default=0)
    # Primitives only (ids, dates as ISO strings): never model instances or secrets in clear.
    context: models.JSONField[dict[str, Any], dict[str, Any]] = models.JSONField(default=dict)
    session_binding = models.CharField(max_length=64)

    objects = FlowQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.kind} {self.state}"

    def check_binding(self, browser_secret: str | None) -> None:
        if not browser_secret or binding_digest(browser_secret) != self.session_binding:
            raise ForeignFlow

    def expect(self, state: FlowState, *, now: datetime | None = None) -> None:
        """Guard of every transition: the flow is live and in the state the transition starts from."""
        if self.state != state:
            raise WrongState
        if (now or timezone.now()) >= self.expires_at:
            raise FlowExpired

    def count_failure(self) -> int:
        """Atomic increment (UPDATE … SET n = n + 1); returns the new count."""
        Flow.objects.filter(pk=self.pk).update(failed_attempts=F("failed_attempts") + 1)
        self.refresh_from_db(fields=["failed_attempts"])
        return self.failed_attempts

    def advance(self, state: FlowState, *, account: Account | None = None) -> None:
        """Move to `state` along an edge of the kind's table (UndeclaredTransition otherwise).

        `account` is the one the last step created or found, saved with the state in the same UPDATE.
        """
        machine(self.kind).check(self.kind, self.state, state)
        fields = ["state"]
        if account is not None:
            self.account = account
            fields.append("account")
        self.state = state
        self.save(update_fields=fields)


class CodePurpose(models.TextChoices):
    SELF_REGISTRATION = "self_registration"
    LOST_PASSWORD = "lost_password"  # noqa: S105 - a purpose name, not a password
    CHANGE_MOBILE = "change_mobile"
    FRANCECONNECT = "franceconnect"


class OneTimeCode(models.Model):
    """A 6-digit code sent by SMS: stored as a keyed digest, bound to its flow, purpose and phone."""

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="codes")
    purpose = models.CharField(max_length=32, choices=CodePurpose.choices)
    phone = models.CharField(max_length=20)
    code_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"code {self.purpose} {self.created_at:%H:%M}"
