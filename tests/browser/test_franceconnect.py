"""'S'identifier avec FranceConnect' walked in Chromium against the live server and the FranceConnect
stand-in (panva oidc-provider configured like FranceConnect v2, started here with Node): seeds 000,
001 "procédure 2", 004 case 1.

A demo guardian's first login ties their FranceConnect identity to the school's records (recorded
mobile, SMS code read from the dev outbox, the children's birth dates); logging out ends both sessions;
the next login is one click at FranceConnect, straight to "Gérer mon compte".
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from tests.browser.conftest import Demo, Letter, Phone
from tests.browser.steps import (
    MIRE_TITLE,
    answer_for_child,
    expect_accessible,
    expect_account_home,
    national,
    type_code,
)
from tests.signin.standin import StandIn, running_standin
from trousseau.accounts.models import Account, AccountState
from trousseau.accounts.sessions import AUTHENTICATED_AT_KEY
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.flows.models import Flow, FlowKind

pytestmark = pytest.mark.browser

LOGGED_OUT = "Vous êtes déconnecté de Trousseau et de FranceConnect."
OTHER_MOBILE = "+33755501234"  # a number no demo record carries
CANCELLED = "Vous avez annulé la connexion avec FranceConnect."


@pytest.fixture(scope="module")
def standin(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIn]:
    with running_standin(
        tmp_path_factory.mktemp("franceconnect"),
        redirect_uri=f"{live_server.url}/franceconnect/retour/",
        post_logout_redirect_uri=f"{live_server.url}/franceconnect/deconnexion/",
    ) as running:
        yield running


@pytest.fixture
def franceconnect(settings: Settings, standin: StandIn, live_server: LiveServer) -> StandIn:
    """Trousseau configured for the stand-in, as `make run` does through the environment."""
    settings.FRANCECONNECT_ENABLED = True
    settings.FRANCECONNECT_BASE_URL = standin.issuer
    settings.FRANCECONNECT_CLIENT_ID = standin.client_id
    settings.FRANCECONNECT_CLIENT_SECRET = standin.client_secret
    settings.PUBLIC_URL = live_server.url
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"].append(standin.origin)  # logout redirects to /session/end
    settings.CONTENT_SECURITY_POLICY = policy
    return standin


def demo_guardian(demo: Demo, first_name: str, last_name: str) -> Letter:
    return next(g for g in demo.guardians if (g.first_name, g.last_name) == (first_name, last_name))


def expect_activated(page: Page, identifier: str) -> None:
    """The page after a first login with FranceConnect: the account is activated, its identifier."""
    expect(page.get_by_role("heading", name="Votre compte est activé", level=1)).to_be_visible()
    expect(page.get_by_text("Terminé ! Votre compte EduConnect est désormais activé")).to_be_visible()
    expect(page.locator("#new-identifier")).to_have_text(identifier)


def standin_session(page: Page, standin: StandIn) -> bool:
    """Whether the browser holds a FranceConnect (stand-in) session cookie."""
    return any(cookie["name"] == "_session" for cookie in page.context.cookies(standin.origin))


def _press_franceconnect(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name=MIRE_TITLE)).to_be_visible()
    expect(page.get_by_role("link", name="Qu'est-ce que FranceConnect ?")).to_have_attribute(
        "href", "https://franceconnect.gouv.fr/"
    )
    page.get_by_role("link", name="S'identifier avec FranceConnect").click()


def choose_identity_at_franceconnect(page: Page, standin: StandIn, name: str) -> None:
    expect(page).to_have_url(re.compile(rf"^{re.escape(standin.origin)}/interaction/"))
    expect(page.get_by_role("heading", name=f"Identifiez-vous sur {standin.client_id}")).to_be_visible()
    page.get_by_role("button", name=name, exact=True).click()


def _log_out_at_both_ends(page: Page, standin: StandIn) -> None:
    assert standin_session(page, standin)
    page.get_by_role("main").get_by_role("button", name="Se déconnecter", exact=True).click()
    expect(page.get_by_role("heading", name=MIRE_TITLE)).to_be_visible()
    expect(page.get_by_text(LOGGED_OUT)).to_be_visible()
    assert not standin_session(page, standin)


def test_first_login_then_one_click_logins_and_logout_at_both_ends(
    page: Page, demo: Demo, phone: Phone, franceconnect: StandIn
) -> None:
    sophie = demo_guardian(demo, "Sophie", "Dupont")
    account = Account.objects.get(identifier=sophie.identifier)
    assert account.state == AccountState.PROVISIONAL
    children = list(account.pupils())

    # First login: FranceConnect, then "Vous allez vous connecter en tant que : Sophie DUPONT".
    _press_franceconnect(page)
    choose_identity_at_franceconnect(page, franceconnect, "Sophie DUPONT")
    expect(page.get_by_role("heading", name="Première connexion avec FranceConnect")).to_be_visible()
    expect(page.get_by_text("Vous allez vous connecter en tant que :")).to_be_visible()
    expect(page.locator("#franceconnect-name")).to_have_text("Sophie DUPONT")
    expect(page.get_by_role("link", name="Ce n'est pas vous ? Retournez à la page d'accueil")).to_be_visible()
    expect_accessible(page, "first login with FranceConnect")
    page.get_by_role("textbox", name="N° de téléphone portable").fill(national(sophie.phone))
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("heading", name="Un code de sécurité a été envoyé")).to_be_visible()
    type_code(page, phone.code(phone.wait_for(sophie.phone)))
    expect(page.get_by_role("heading", name="Je confirme mon lien avec les élèves")).to_be_visible()
    for child in children:
        answer_for_child(page, child.first_name, legal=True, birth_date=child.birth_date)
    page.get_by_role("button", name="Continuer").click()
    # Seed 001 step 6: "Vous êtes notifié de l'activation de votre compte"; no service was waiting.
    expect_activated(page, sophie.identifier)
    expect(page.get_by_role("link", name="Continuer vers")).to_have_count(0)
    expect_accessible(page, "account activated by a first login with FranceConnect")
    page.get_by_role("main").get_by_role("link", name="Accéder à mes services").click()
    expect(page.get_by_role("heading", name="Mes services", level=1)).to_be_visible()
    page.goto("/compte/")
    expect_account_home(page, sophie.identifier)
    account.refresh_from_db()
    assert account.state == AccountState.ACTIVE
    assert account.franceconnect_sub
    assert account.franceconnect_sub.endswith("v1")

    _log_out_at_both_ends(page, franceconnect)

    # Next login: one click at FranceConnect, straight in.
    _press_franceconnect(page)
    choose_identity_at_franceconnect(page, franceconnect, "Sophie DUPONT")
    expect_account_home(page, sophie.identifier)
    assert Flow.objects.filter(kind=FlowKind.FRANCECONNECT_FIRST_LOGIN).count() == 1
    assert AuditEvent.objects.filter(tag=EventTag.LOGIN_SUCCESS, account=account).count() == 2
    _log_out_at_both_ends(page, franceconnect)


def test_cancel_at_franceconnect_and_a_stranger(page: Page, demo: Demo, phone: Phone, franceconnect: StandIn) -> None:
    _press_franceconnect(page)
    expect(page).to_have_url(re.compile(rf"^{re.escape(franceconnect.origin)}/interaction/"))
    page.get_by_role("button", name="Annuler et revenir au service").click()
    expect(page.get_by_role("heading", name=MIRE_TITLE)).to_be_visible()  # no service: the mire
    expect(page.get_by_text(CANCELLED)).to_be_visible()

    # Someone FranceConnect knows and no school does: told to check the number or ask the school.
    sophie = demo_guardian(demo, "Sophie", "Dupont")
    _press_franceconnect(page)
    choose_identity_at_franceconnect(page, franceconnect, "Jean INCONNU")
    expect(page.locator("#franceconnect-name")).to_have_text("Jean INCONNU")
    page.get_by_role("textbox", name="N° de téléphone portable").fill(national(sophie.phone))
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("alert")).to_contain_text("Nous ne trouvons pas de responsable d'élève à votre nom")
    expect_accessible(page, "FranceConnect first login, no match")
    assert phone.total() == 0

    # "Ce n'est pas vous ?" ends the FranceConnect session and comes back to the mire.
    page.get_by_role("link", name="Ce n'est pas vous ? Retournez à la page d'accueil").click()
    expect(page.get_by_role("heading", name=MIRE_TITLE)).to_be_visible()
    expect(page.get_by_text("Vous pouvez vous connecter avec une autre identité")).to_be_visible()
    assert not standin_session(page, franceconnect)


def _age_the_login(page: Page, live_server: LiveServer, minutes: int) -> None:
    """Make this browser's login `minutes` older, as if the parent had logged in then and walked away."""
    [key] = [c["value"] for c in page.context.cookies(live_server.url) if c["name"] == settings.SESSION_COOKIE_NAME]
    session = import_string(f"{settings.SESSION_ENGINE}.SessionStore")(session_key=key)
    session[AUTHENTICATED_AT_KEY] = (timezone.now() - timedelta(minutes=minutes)).isoformat()
    session.save()


def _ask_mobile_change(page: Page, mobile: str) -> None:
    page.get_by_role("textbox", name=re.compile("^Nouveau numéro de téléphone portable")).fill(national(mobile))
    page.get_by_role("button", name="Recevoir un code par SMS").click()


def test_an_account_without_a_password_confirms_a_change_by_a_fresh_franceconnect_login(
    page: Page, demo: Demo, phone: Phone, franceconnect: StandIn, live_server: LiveServer
) -> None:
    """Issue #15, finding 5: a session left open no longer lets anyone change the mobile of an account
    that has no password; a FranceConnect login of a few minutes ago does."""
    sophie = demo_guardian(demo, "Sophie", "Dupont")
    _press_franceconnect(page)
    choose_identity_at_franceconnect(page, franceconnect, "Sophie DUPONT")
    page.get_by_role("textbox", name="N° de téléphone portable").fill(national(sophie.phone))
    page.get_by_role("button", name="Valider").click()
    type_code(page, phone.code(phone.wait_for(sophie.phone)))
    for child in Account.objects.get(identifier=sophie.identifier).pupils():
        answer_for_child(page, child.first_name, legal=True, birth_date=child.birth_date)
    page.get_by_role("button", name="Continuer").click()
    expect_activated(page, sophie.identifier)
    page.get_by_role("main").get_by_role("link", name="Gérer mon compte").click()
    expect_account_home(page, sophie.identifier)
    assert not Account.objects.get(identifier=sophie.identifier).has_usable_password()

    # An hour later, someone else at this computer tries to put their number on the account.
    _age_the_login(page, live_server, minutes=60)
    page.goto("/compte/mobile/")
    expect(page.get_by_label("Mot de passe actuel")).to_have_count(0)
    _ask_mobile_change(page, OTHER_MOBILE)
    expect(page.get_by_role("alert")).to_contain_text("reconnectez-vous avec FranceConnect")
    expect_accessible(page, "the mobile page asking for a fresh FranceConnect login")
    assert phone.messages(OTHER_MOBILE) == []
    account = Account.objects.get(identifier=sophie.identifier)
    assert AuditEvent.objects.get(tag=EventTag.CHANGE_MOBILE_FAILURE, account=account).data == {"reason": "stale_login"}

    # Sophie logs in again with FranceConnect and comes back to the page: now the code is sent.
    page.get_by_role("link", name="Me reconnecter avec FranceConnect").click()
    if page.url.startswith(franceconnect.origin):
        choose_identity_at_franceconnect(page, franceconnect, "Sophie DUPONT")
    expect(page).to_have_url(re.compile(r"/compte/mobile/$"))
    _ask_mobile_change(page, OTHER_MOBILE)
    expect(page.get_by_role("heading", name="Un code de sécurité a été envoyé")).to_be_visible()
    assert len(phone.messages(OTHER_MOBILE)) == 1
