"""The provider's endpoints: ÉduConnect's paths (Shibboleth OIDC OP plugin) and the pinned discovery path."""

from django.urls import path
from oauth2_provider.views import JwksInfoView, RevokeTokenView

from trousseau.federation.oidc import userinfo, views

app_name = "oidc"
PREFIX = "idp/profile/oidc/"
urlpatterns = [
    path(".well-known/openid-configuration", views.discovery, name="discovery"),
    path(PREFIX + "authorize", views.authorize, name="authorize"),
    path(PREFIX + "token", views.TokenView.as_view(), name="token"),
    path(PREFIX + "userinfo", userinfo.userinfo, name="userinfo"),
    path(PREFIX + "keyset", JwksInfoView.as_view(), name="jwks"),
    path(PREFIX + "logout", views.EndSessionView.as_view(), name="logout"),
    path(PREFIX + "revoke", RevokeTokenView.as_view(), name="revoke"),
]
