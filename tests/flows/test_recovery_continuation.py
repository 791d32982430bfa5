"""The recovery journeys end at the service where they began (issue #17), and "Identifiant perdu" reads
the channel from what the person typed.

A browser is "on its way to a service" once the mire was shown with the `next` of a service's request
(core/continuation.py); an OpenID Connect authorization stands for that request here, since it needs
nothing in the session to stay answerable.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.accounts.helpers import active_guardian
from trousseau.accounts.models import Account
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.core import continuation
from trousseau.federation.oidc.services import register_client
from trousseau.flows.lost_identifier import forms as lost_identifier_forms
from trousseau.flows.lost_identifier import transitions as lost_identifier
from trousseau.flows.lost_password import transitions as lost_password
from trousseau.flows.models import Flow, FlowKind
from trousseau.notifications.models import Channel, Delivery, OutboxMessage

pytestmark = pytest.mark.django_db

SERVICE_NAME = "ENT de démonstration"
HOME = "https://ent.example/"
AUTHORIZE = (
    reverse("oidc:authorize")
    + "?"
    + urlencode(
        {"client_id": "ent-demo", "redirect_uri": "https://ent.example/cb", "response_type": "code", "scope": "openid"}
    )
)
MOBILE = "+33612345678"
EMAIL = "sophie.dupont@example.fr"
NEW = "Trousse#Neuve42"
PASSWORD_CHANGED = "Votre mot de passe a été modifié. Connectez-vous avec votre nouveau mot de passe."
GO_TO_SERVICE = f"Aller sur « {SERVICE_NAME} »"


@pytest.fixture
def service() -> continuation.Service:
    registration = register_client(
        name=SERVICE_NAME, redirect_uris=["https://ent.example/cb"], home_url=HOME, client_id="ent-demo"
    )
    found = continuation.service(f"oidc:{registration.application.pk}")
    assert found is not None
    return found


@pytest.fixture
def account() -> Account:
    account = active_guardian(mobile=MOBILE)
    account.email = EMAIL
    account.email_verified_at = timezone.now()
    account.save()
    return account


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> list[Callable[[], None]]:
    """The reminder work that 'Identifiant perdu' holds until its answer is sent, run by the test."""
    work: list[Callable[[], None]] = []
    monkeypatch.setattr(lost_identifier, "later", work.append)
    return work


def on_the_way(client: Client) -> Client:
    """The browser opened the service, which sent it to the mire: its login is pending."""
    assert client.get(reverse("flows:login"), {"next": AUTHORIZE}).status_code == 200
    pending = continuation.current(client.session)
    assert pending is not None
    assert pending.next_url == AUTHORIZE
    return client


def _sent() -> list[tuple[str, str]]:
    """What left: (channel, recipient) of every email and SMS."""
    emails = [("email", to.lower()) for message in mail.outbox for to in message.to]
    return emails + [("sms", message.to) for message in OutboxMessage.objects.filter(channel=Channel.SMS)]


def _href(url: str) -> str:
    return f'href="{html.escape(url)}"'


def _back_link(content: bytes) -> str:
    """Where "Retour à la page de connexion" leads on the page."""
    found = re.search(r'href="([^"]*)"[^>]*>Retour à la page de connexion<', content.decode())
    assert found, "no 'Retour à la page de connexion' link"
    return html.unescape(found.group(1))


def _page(content: bytes) -> bytes:
    """The page without what every response draws afresh: the CSP nonce, the masked CSRF token."""
    content = re.sub(rb'nonce="[^"]*"', b'nonce=""', content)
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b'name="csrfmiddlewaretoken" value=""', content)


# --- "Identifiant perdu": back to the service's login page --------------------------------------------


def test_lost_identifier_leads_back_to_the_pending_service(service, account, held):
    browser = on_the_way(Client())
    form = browser.get(reverse("flows:lost_identifier"))
    assert _back_link(form.content) == AUTHORIZE
    answer = browser.post(reverse("flows:lost_identifier"), {"contact": "06 12 34 56 78", "country": "FR"})
    assert answer.status_code == 200
    assert _back_link(answer.content) == AUTHORIZE
    # Following it shows the login page again, on the way to the same service.
    assert browser.get(AUTHORIZE).status_code == 302
    pending = continuation.current(browser.session)
    assert pending is not None
    assert pending.next_url == AUTHORIZE


def test_lost_identifier_without_a_pending_service_leads_to_the_mire(service, held):
    browser = Client()
    assert _back_link(browser.get(reverse("flows:lost_identifier")).content) == reverse("flows:login")
    answer = browser.post(reverse("flows:lost_identifier"), {"contact": EMAIL})
    assert _back_link(answer.content) == reverse("flows:login")


# --- "Identifiant perdu": the channel follows from what was typed --------------------------------------


@pytest.mark.parametrize(
    ("typed", "country", "channel", "destination"),
    [
        ("Sophie.Dupont@Example.fr", "FR", "email", EMAIL),
        ("06 12 34 56 78", "FR", "sms", MOBILE),
        ("0692 12 34 56", "RE", "sms", "+262692123456"),
        ("+262 692 12 34 56", "RE", "sms", "+262692123456"),
    ],
)
def test_the_channel_follows_from_what_was_typed(held, typed, country, channel, destination):
    account = active_guardian(mobile=destination if channel == "sms" else MOBILE)
    if channel == "email":
        account.email, account.email_verified_at = EMAIL, timezone.now()
        account.save()
    answer = Client().post(reverse("flows:lost_identifier"), {"contact": typed, "country": country})
    assert answer.status_code == 200
    assert "Demande enregistrée" in answer.content.decode()
    assert AuditEvent.objects.get(tag=EventTag.LOST_IDENTIFIER_REQUESTED).data["channel"] == channel
    for work in held:
        work()
    assert _sent() == [(channel, destination)]
    body = mail.outbox[0].body if channel == "email" else OutboxMessage.objects.get().body
    assert account.identifier in body


@pytest.mark.parametrize(
    ("typed", "country", "message"),
    [
        ("", "FR", lost_identifier_forms.EMPTY),
        ("bonjour", "FR", lost_identifier_forms.NEITHER),
        ("Sophie Dupont", "FR", lost_identifier_forms.NEITHER),
        ("sophie@", "FR", lost_identifier_forms.BAD_EMAIL),
        ("06 12", "FR", lost_identifier_forms.BAD_MOBILE),
        ("01 23 45 67 89", "FR", lost_identifier_forms.BAD_MOBILE),  # a landline
        ("0692 12 34 56", "FR", lost_identifier_forms.BAD_MOBILE),  # La Réunion typed with France chosen
    ],
)
def test_bad_input_is_told_in_french_and_nothing_is_sent(held, typed, country, message):
    active_guardian(mobile="+262692123456")
    answer = Client().post(reverse("flows:lost_identifier"), {"contact": typed, "country": country})
    assert answer.status_code == 200
    page = answer.content.decode()
    assert html.escape(str(message)) in page
    assert 'aria-invalid="true"' in page
    assert "Demande enregistrée" not in page
    assert not held
    assert not AuditEvent.objects.filter(tag=EventTag.LOST_IDENTIFIER_REQUESTED).exists()
    assert not Delivery.objects.exists()


def test_an_email_with_and_without_an_account_gets_the_same_answer(service, account, held):
    browser = on_the_way(Client())
    matched = browser.post(reverse("flows:lost_identifier"), {"contact": EMAIL})
    unmatched = browser.post(reverse("flows:lost_identifier"), {"contact": "personne@example.fr"})
    assert _page(matched.content) == _page(unmatched.content)
    for work in held:
        work()
    assert _sent() == [("email", EMAIL)]


# --- "Mot de passe perdu" by SMS -----------------------------------------------------------------------


def _by_sms_to_new_password(browser: Client, account: Account):
    started = browser.post(reverse("flows:lost_password"), {"identifier": account.identifier, "channel": "sms"})
    assert started.status_code == 302
    step = started["Location"]
    code = re.search(r"\b(\d{6})\b", OutboxMessage.objects.get(channel=Channel.SMS, to=MOBILE).body)
    assert code
    assert browser.post(step, {"code": code.group(1)}).status_code == 302
    return browser.post(step, {"password": NEW, "password_confirm": NEW})


def test_lost_password_by_sms_ends_at_the_pending_service(service, account):
    browser = on_the_way(Client())
    done = _by_sms_to_new_password(browser, account)
    assert done.status_code == 302
    assert done["Location"] == AUTHORIZE
    flow = Flow.objects.get(kind=FlowKind.LOST_PASSWORD)
    assert flow.context == {"continuation": {"next": AUTHORIZE, "service": service.key}}
    # The service asks for a login: its login page says the password changed.
    login_page = browser.get(AUTHORIZE, follow=True)
    assert login_page.redirect_chain[-1][0].startswith(reverse("flows:login"))
    assert PASSWORD_CHANGED in login_page.content.decode()
    account.refresh_from_db()
    assert account.check_password(NEW)


def test_lost_password_by_sms_without_a_service_ends_at_the_mire(service, account):
    browser = Client()
    done = _by_sms_to_new_password(browser, account)
    assert done["Location"] == reverse("flows:login")
    assert Flow.objects.get(kind=FlowKind.LOST_PASSWORD).context == {}
    assert PASSWORD_CHANGED in browser.get(done["Location"]).content.decode()


# --- "Mot de passe perdu" by email ---------------------------------------------------------------------


def _emailed_link(browser: Client, account: Account) -> str:
    sent = browser.post(reverse("flows:lost_password"), {"identifier": account.identifier, "channel": "email"})
    assert sent.status_code == 200
    found = re.search(r"https?://\S+?(/mot-de-passe-perdu/lien/\S+)", str(mail.outbox[-1].body))
    assert found, mail.outbox[-1].body
    return found.group(1)


def _set_new_password(browser: Client, link: str):
    opened = browser.get(link)
    assert opened.status_code == 302
    assert "service=" not in opened["Location"]  # the address keeps neither the token nor the service
    form = browser.get(opened["Location"])
    assert form.status_code == 200
    return browser.post(opened["Location"], {"password": NEW, "password_confirm": NEW})


def test_the_link_sent_page_leads_back_to_the_pending_service(service, account):
    browser = on_the_way(Client())
    sent = browser.post(reverse("flows:lost_password"), {"identifier": account.identifier, "channel": "email"})
    assert _back_link(sent.content) == AUTHORIZE


def test_a_link_opened_in_the_same_browser_ends_at_the_pending_service(service, account):
    browser = on_the_way(Client())
    link = _emailed_link(browser, account)
    done = _set_new_password(browser, link)
    assert done.status_code == 302
    assert done["Location"] == AUTHORIZE
    assert PASSWORD_CHANGED in browser.get(AUTHORIZE, follow=True).content.decode()


def test_a_link_opened_in_another_browser_names_the_service_and_offers_its_home_page(service, account):
    link = _emailed_link(on_the_way(Client()), account)
    phone = Client()  # the email read on a phone: no pending login there
    done = _set_new_password(phone, link)
    assert done.status_code == 200
    page = done.content.decode()
    assert "Votre demande de connexion n'est plus en cours" in page
    assert html.escape(PASSWORD_CHANGED) in page
    assert html.escape(GO_TO_SERVICE) in page
    assert _href(HOME) in page
    account.refresh_from_db()
    assert account.check_password(NEW)


def test_a_link_asked_for_without_a_service_ends_at_the_mire(service, account):
    link = _emailed_link(Client(), account)
    assert "service=" not in link
    done = _set_new_password(Client(), link)
    assert done["Location"] == reverse("flows:login")


def test_a_link_whose_service_was_changed_names_no_service(service, account):
    other = register_client(name="Autre service", redirect_uris=["https://autre.example/cb"], home_url=HOME)
    other_key = f"oidc:{other.application.pk}"
    link = _emailed_link(on_the_way(Client()), account)
    assert "?service=" in link
    forged = link.split("?")[0] + "?" + urlencode({"service": other_key})
    done = _set_new_password(Client(), forged)
    assert done["Location"] == reverse("flows:login")
    assert lost_password.link_context(signing.dumps(other_key, salt="another purpose")) == {}
    assert lost_password.link_context(signing.dumps(other_key, salt=lost_password.SERVICE_SALT)) == {
        "continuation": {"service": other_key}
    }
