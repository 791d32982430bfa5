"""What the relying party refuses, each with a short machine reason for the audit trail."""

from __future__ import annotations


class FranceConnectError(Exception):
    """Base of every FranceConnect refusal; `reason` names the broken rule (e.g. "nonce", "acr")."""

    reason = "error"

    def __init__(self, reason: str | None = None, detail: str = "") -> None:
        super().__init__(reason or self.reason, detail)
        if reason:
            self.reason = reason
        self.detail = detail


class NotConfigured(FranceConnectError):
    """FranceConnect is switched off or lacks a client id, secret or base URL."""

    reason = "not_configured"


class ProviderUnavailable(FranceConnectError):
    """FranceConnect did not answer, or answered something that is not what the protocol says."""

    reason = "unavailable"


class ProviderRefusal(FranceConnectError):
    """FranceConnect sent the person back with an OAuth error, e.g. access_denied when they cancel."""

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(error, description)
        self.error = error

    @property
    def cancelled(self) -> bool:
        return self.error == "access_denied"


class CallbackRefused(FranceConnectError):
    """The callback itself is wrong: unknown or replayed state, missing code, wrong `iss`."""


class TokenRefused(FranceConnectError):
    """An ID token, token response or userinfo JWT broke a rule: signature, alg, kid, claims."""
