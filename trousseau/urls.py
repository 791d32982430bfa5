from django.urls import include, path

from trousseau.accounts import urls as accounts_urls
from trousseau.flows import urls as flows_urls
from trousseau.notifications.views import outbox
from trousseau.signin import urls as signin_urls

urlpatterns = [
    # The protocols' endpoints first: most requests are theirs, and Django tries the patterns in order.
    # SAML at ÉduConnect's Shibboleth paths; sign-in's logout at theirs too. No other path starts with idp/.
    path("idp/", include("trousseau.federation.saml.urls")),
    path("", include("trousseau.federation.oidc.urls")),
    path("", include(signin_urls.urlpatterns)),
    path("", include((signin_urls.in_flows_namespace + flows_urls.urlpatterns, "flows"))),
    path("", include((accounts_urls.urlpatterns + signin_urls.in_accounts_namespace, "accounts"))),
    path("console/", include("trousseau.console.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("dev/outbox/", outbox, name="outbox"),
    path("", include("trousseau.ops.urls")),
]
