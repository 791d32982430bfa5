"""ÉduConnect's Shibboleth paths (research/educonnect.md §2.1). /idp/profile/Logout is in trousseau/urls.py."""

from django.urls import path

from trousseau.federation.saml.views.metadata import metadata_view
from trousseau.federation.saml.views.slo import slo_view
from trousseau.federation.saml.views.sso import sso

app_name = "saml"
urlpatterns = [
    path("shibboleth", metadata_view, name="metadata"),
    path("profile/SAML2/Redirect/SSO", sso, {"binding": "redirect"}, name="sso_redirect"),
    path("profile/SAML2/POST/SSO", sso, {"binding": "post"}, name="sso_post"),
    path("profile/SAML2/Unsolicited/SSO", sso, {"binding": "unsolicited"}, name="sso_unsolicited"),
    path("profile/SAML2/Redirect/SLO", slo_view, {"binding": "redirect"}, name="slo_redirect"),
    path("profile/SAML2/POST/SLO", slo_view, {"binding": "post"}, name="slo_post"),
]
