"""The Prometheus metrics Trousseau exports (docs/deployment.md, "Metrics").

Under gunicorn every worker writes its samples to files in PROMETHEUS_MULTIPROC_DIR (set before
prometheus_client is first imported: deploy/gunicorn.conf.py does it) and `/metrics` adds up the files
of every worker, live or dead, so a scrape landing on any worker sees the whole pod. Without that
variable (`runserver`, the tests) the process's own registry is exposed.

Labels never hold identifiers, paths or addresses: only closed sets (outcomes, reasons, route names).
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

LOGINS = Counter(
    "trousseau_logins",
    "Login attempts, by outcome (success, failure), reason and method (password, franceconnect, console).",
    ["outcome", "reason", "method"],
)
FLOW_COMPLETIONS = Counter("trousseau_flow_completions", "Self-service journeys completed, by kind.", ["kind"])
NOTIFICATIONS = Counter(
    "trousseau_notifications",
    "Delivery attempts of SMS and emails, by channel and outcome (sent, retry, failed for good).",
    ["channel", "outcome"],
)
SAML_RESPONSES = Counter("trousseau_saml_responses", "SAML responses, by outcome (issued, refused).", ["outcome"])
OIDC_CODES = Counter("trousseau_oidc_codes", "OpenID Connect authorization codes issued.")
OIDC_TOKENS = Counter("trousseau_oidc_tokens", "OpenID Connect access tokens issued, by grant type.", ["grant_type"])
AUDIT_EVENTS = Counter("trousseau_audit_events", "Security events written to the audit trail, by tag.", ["tag"])
REQUEST_DURATION = Histogram(
    "trousseau_request_duration_seconds",
    "Time to answer a request, by route name (not path), method and status class.",
    ["route", "method", "status"],
    # A password login costs ~20 ms of argon2 alone; the tail that matters is seconds.
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def exposition() -> tuple[bytes, str]:
    """The text format of every metric, summed over the workers in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
