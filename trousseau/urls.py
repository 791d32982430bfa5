from django.urls import include, path

from trousseau.federation.logout import idp_logout
from trousseau.notifications.views import outbox

urlpatterns = [
    path("", include("trousseau.flows.urls")),
    path("", include("trousseau.accounts.urls")),
    path("", include("trousseau.federation.oidc.urls")),
    # SAML at ÉduConnect's Shibboleth paths; browser logout ends every protocol's sessions.
    path("idp/profile/Logout", idp_logout, name="idp_logout"),
    path("idp/", include("trousseau.federation.saml.urls")),
    path("console/", include("trousseau.console.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("dev/outbox/", outbox, name="outbox"),
    path("", include("trousseau.ops.urls")),
]
