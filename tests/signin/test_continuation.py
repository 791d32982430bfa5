import pytest
from oauth2_provider.models import get_application_model

from trousseau.core.continuation import redirect_origin

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_app():
    return get_application_model().objects.create(
        client_id="pronote-demo",
        client_type="confidential",
        authorization_grant_type="authorization-code",
        redirect_uris="http://127.0.0.1:8011/callback https://pronote.example/cb",
        algorithm="RS256",
    )


def test_a_registered_redirect_uri_gives_its_origin(client_app):
    url = "/idp/profile/oidc/authorize?client_id=pronote-demo&redirect_uri=https%3A%2F%2Fpronote.example%2Fcb&scope=openid"
    assert redirect_origin(url) == "https://pronote.example"


@pytest.mark.parametrize(
    "url",
    [
        "/idp/profile/oidc/authorize?client_id=pronote-demo&redirect_uri=https%3A%2F%2Fevil.example%2Fcb",
        "/idp/profile/oidc/authorize?client_id=unknown&redirect_uri=https%3A%2F%2Fpronote.example%2Fcb",
        "https://evil.example/idp/profile/oidc/authorize?client_id=pronote-demo&redirect_uri=https%3A%2F%2Fpronote.example%2Fcb",
        "/compte/?redirect_uri=https%3A%2F%2Fpronote.example%2Fcb&client_id=pronote-demo",
        "",
    ],
)
def test_nothing_else_widens_form_action(client_app, url):
    assert redirect_origin(url) is None
