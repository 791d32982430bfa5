"""Paths for probes and scrapers; `ProbeMiddleware` answers them before the rest of the stack."""

from django.urls import path

from trousseau.ops import views

app_name = "ops"
HEALTHZ, READYZ, METRICS = "/healthz", "/readyz", "/metrics"
PROBE_VIEWS = {HEALTHZ: views.healthz, READYZ: views.readyz, METRICS: views.metrics}
urlpatterns = [path(route.lstrip("/"), view, name=route.lstrip("/")) for route, view in PROBE_VIEWS.items()]
