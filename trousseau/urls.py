from django.urls import include, path

from trousseau.notifications.views import outbox

urlpatterns = [
    path("", include("trousseau.flows.urls")),
    path("", include("trousseau.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("dev/outbox/", outbox, name="outbox"),
]
