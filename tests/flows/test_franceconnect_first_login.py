"""The first FranceConnect login over HTTP (mobile, SMS code, birth dates), next logins, logout, unlinking."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.federation.conftest import active_guardian
from tests.signin import conftest as franceconnect
from tests.signin.conftest import back_from_franceconnect
from tests.signin.fake_op import SUB
from trousseau.accounts.models import Account, AccountState
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.flows.models import Flow, FlowState
from trousseau.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db
PHONE = "+33612345678"
LEA_BIRTH = date(2012, 3, 14)

# FranceConnect's fixtures live with sign-in (tests/signin/conftest.py); this journey uses them too.
op = franceconnect.op
fc = franceconnect.fc


@pytest.fixture
def lea():
    return factories.pupil(first_name="Léa", birth_date=LEA_BIRTH)


def start(client: Client, fc) -> str:
    response = back_from_franceconnect(client, fc)
    assert response.status_code == 302, response.status_code
    return str(response["Location"])


def phone(client: Client, url: str, mobile: str = "06 12 34 56 78"):
    return client.post(url, {"country": "FR", "mobile": mobile})


def code_from_outbox() -> str:
    found = re.search(r"\d{6}", OutboxMessage.objects.filter(to=PHONE).first().body)
    assert found is not None
    return str(found.group(0))


def children_answers(*pupils, day: date | None = None) -> dict[str, str]:
    data = {}
    for p in pupils:
        data[f"legal_{p.pk}"] = "oui"
        data[f"birth_{p.pk}"] = (day or p.birth_date).isoformat()
    return data


def walk(client: Client, fc, *pupils):
    """The whole first login; returns the last response."""
    url = start(client, fc)
    assert phone(client, url).status_code == 302
    assert client.post(url, {"code": code_from_outbox()}).status_code == 302
    return client.post(url, children_answers(*pupils))


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_first_login_activates_the_provisional_account_and_links_it(client, fc, lea):
    account, letter, _ = factories.guardian_account(children=[lea])
    url = start(client, fc)
    assert phone(client, url).status_code == 302
    assert client.post(url, {"code": code_from_outbox()}).status_code == 302
    response = client.post(url, children_answers(lea))
    assert response["Location"] == url  # "Votre compte est activé" (seed 001 step 6)
    account.refresh_from_db()
    letter.refresh_from_db()
    assert account.state == AccountState.ACTIVE
    assert account.franceconnect_sub == SUB
    assert not account.has_usable_password()  # FranceConnect is its way in
    assert letter.revoked_at is not None
    assert client.session["_auth_user_id"] == str(account.pk)
    assert Flow.objects.get().state == FlowState.COMPLETED
    assert AuditEvent.objects.filter(tag=EventTag.FRANCECONNECT_LINKED, account=account).exists()
    assert f'<strong id="new-identifier">{account.identifier}</strong>' in client.get(url).text
    assert Account.objects.count() == 1


def test_the_pages_say_what_the_seeds_say(client, fc, lea):
    factories.guardian(children=[lea])
    url = start(client, fc)
    page = client.get(url).text
    for words in ["Vous allez vous connecter en tant que :", "Sophie Marie DUPONT", "N° de téléphone portable"]:
        assert words in page, words
    assert "+262 La Réunion" in page
    phone(client, url)
    assert "Un code de sécurité a été envoyé" in client.get(url).text
    client.post(url, {"code": code_from_outbox()})
    page = client.get(url).text
    assert "Je confirme mon lien avec les élèves" in page
    assert "Léa D." in page


def test_an_active_account_is_linked_not_duplicated(client, fc, lea):
    account = active_guardian(children=[lea])
    walk(client, fc, lea)
    account.refresh_from_db()
    assert Account.objects.count() == 1
    assert account.franceconnect_sub == SUB
    assert account.check_password(factories.GOOD_PASSWORD)  # its password still works
    assert client.session["_auth_user_id"] == str(account.pk)


def test_records_without_an_account_get_a_new_one(client, fc, lea):
    factories.guardian(children=[lea])
    Account.objects.all().delete()
    walk(client, fc, lea)
    account = Account.objects.get()
    assert account.state == AccountState.ACTIVE
    assert account.franceconnect_sub == SUB
    assert (account.first_name, account.last_name) == ("Sophie", "Dupont")
    assert list(account.pupils()) == [lea]


def test_the_next_login_goes_straight_in_and_logout_ends_both_sessions(client, fc, lea):
    account, _, _ = factories.guardian_account(children=[lea])
    walk(client, fc, lea)
    assert client.get(reverse("accounts:home")).status_code == 200  # the success message is shown there
    logout = client.post(reverse("accounts:logout"))
    url = urlsplit(logout["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{fc.issuer}/session/end"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["post_logout_redirect_uri"] == "http://testserver/franceconnect/deconnexion/"
    assert query["id_token_hint"].count(".") == 2
    assert "_auth_user_id" not in client.session
    back = client.get(reverse("flows:franceconnect_logged_out"), {"state": query["state"]})
    assert back["Location"] == reverse("flows:login")
    assert messages_of(back) == ["Vous êtes déconnecté de Trousseau et de FranceConnect."]
    again = back_from_franceconnect(client, fc)
    assert again["Location"] == reverse("accounts:home")
    assert client.session["_auth_user_id"] == str(account.pk)
    assert Flow.objects.count() == 1  # no second first-login


def test_a_forged_logout_return_says_nothing(client, fc):
    response = client.get(reverse("flows:franceconnect_logged_out"), {"state": "forged"})
    assert response["Location"] == reverse("flows:login")
    assert messages_of(response) == []


def test_a_password_login_logs_out_here_only(client, lea):
    account = active_guardian(children=[lea])
    client.force_login(account)
    assert client.post(reverse("accounts:logout"))["Location"] == reverse("flows:login")


@pytest.mark.parametrize(
    ("guardian", "reason"),
    [({"last_name": "Durand"}, "name"), ({"mobile": "+33698765432"}, "phone"), ({"first_name": "Sofia"}, "name")],
    ids=["family-name", "phone-not-recorded", "first-name"],
)
def test_a_mismatch_is_refused_with_a_clear_message(client, fc, lea, guardian, reason):
    factories.guardian(children=[lea], **guardian)
    url = start(client, fc)
    response = phone(client, url)
    assert response.status_code == 400
    assert "Nous ne trouvons pas de responsable d'élève à votre nom avec ce numéro" in response.text
    assert "contactez votre établissement" in response.text
    assert not OutboxMessage.objects.exists()
    assert Flow.objects.get().state == FlowState.AWAITING_PHONE
    assert AuditEvent.objects.get(tag=EventTag.FRANCECONNECT_FIRST_LOGIN_NO_MATCH).data["reason"] == reason
    assert not Account.objects.exclude(franceconnect_sub=None).exists()


@pytest.mark.parametrize(
    ("recorded", "claims"),
    [
        ({"last_name": "Le Gall", "first_name": "Céline"}, {"family_name": "LE GALL", "given_name": "CELINE"}),
        ({"last_name": "N'Diaye", "first_name": "Marie"}, {"family_name": "NDIAYE", "given_name": "Sophie Marie"}),
        ({"last_name": "Dupont", "first_name": "Jean-Pierre"}, {"given_name": "Jean Pierre"}),
        (
            {"last_name": "Dupont-Moreau", "first_name": "Aurélie"},
            {"family_name": "LEROUX", "preferred_username": "DUPONT-MOREAU", "given_name": "Aurélie"},
        ),
    ],
    ids=["accents-and-spaces", "second-given-name", "compound-first-name", "usage-name"],
)
def test_names_are_folded_and_the_first_name_compared_leniently(client, fc, lea, recorded, claims):
    factories.guardian(children=[lea], **recorded)
    fc.userinfo_claims = claims
    assert phone(client, start(client, fc)).status_code == 302
    assert OutboxMessage.objects.filter(to=PHONE).exists()


def test_wrong_code_and_wrong_birth_date_change_nothing(client, fc, lea):
    factories.guardian_account(children=[lea])
    url = start(client, fc)
    phone(client, url)
    good = code_from_outbox()
    wrong = "000000" if good != "000000" else "111111"
    assert "Ce code n'est pas le bon. Il vous reste 4 essais." in client.post(url, {"code": wrong}).text
    client.post(url, {"code": good})
    response = client.post(url, children_answers(lea, day=date(2011, 1, 1)))
    assert "Une date de naissance ne correspond pas. Il vous reste 4 essais." in response.text
    assert not Account.objects.exclude(franceconnect_sub=None).exists()
    assert "_auth_user_id" not in client.session


def test_too_many_misses_are_throttled(client, fc, lea, settings):
    settings.SELF_REGISTRATION_IP_FREE_FAILURES = 1
    factories.guardian(children=[lea])
    url = start(client, fc)
    phone(client, url, "06 99 99 99 99")
    phone(client, url, "06 99 99 99 98")
    response = phone(client, url)  # even the right number now waits
    assert "Trop de tentatives. Patientez" in response.text
    assert AuditEvent.objects.filter(tag=EventTag.FRANCECONNECT_FIRST_LOGIN_THROTTLED).exists()
    assert not OutboxMessage.objects.exists()


def test_not_me_ends_the_journey_and_the_franceconnect_session(client, fc, lea):
    factories.guardian(children=[lea])
    url = start(client, fc)
    flow = Flow.objects.get()
    response = client.get(reverse("flows:franceconnect_first_login_not_me", kwargs={"flow_id": flow.pk}))
    target = urlsplit(response["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{fc.issuer}/session/end"
    state = parse_qs(target.query)["state"][0]
    flow.refresh_from_db()
    assert flow.state == FlowState.FAILED
    assert "n'est plus en cours" in client.get(url).text
    back = client.get(reverse("flows:franceconnect_logged_out"), {"state": state})
    assert "Vous pouvez vous connecter avec une autre identité" in messages_of(back)[0]


def test_another_browser_cannot_continue_the_journey(client, fc, lea):
    factories.guardian(children=[lea])
    url = start(client, fc)
    assert Client().get(url).status_code == 403


def test_an_expired_journey_starts_again(client, fc, lea):
    factories.guardian(children=[lea])
    url = start(client, fc)
    Flow.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = phone(client, url)
    assert response.status_code == 400
    assert "Cette connexion avec FranceConnect n'est plus en cours" in response.text


def test_a_disabled_linked_account_is_refused(client, fc, lea):
    account = active_guardian(sub=SUB, children=[lea])
    Account.objects.filter(pk=account.pk).update(state=AccountState.DISABLED)
    response = back_from_franceconnect(client, fc)
    assert response.status_code == 403
    assert "Votre compte est désactivé" in response.text
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(tag=EventTag.FRANCECONNECT_ACCOUNT_UNUSABLE, account=account).exists()


def test_the_records_disabled_account_is_not_replaced(client, fc, lea):
    account = active_guardian(children=[lea])
    Account.objects.filter(pk=account.pk).update(state=AccountState.DISABLED)
    response = walk(client, fc, lea)
    assert response.status_code == 403
    assert Account.objects.count() == 1
    assert not Account.objects.exclude(franceconnect_sub=None).exists()


def test_unlinking_from_the_account_page(client, lea):
    account = active_guardian(sub=SUB, children=[lea])
    client.force_login(account)
    response = client.post(reverse("flows:franceconnect_unlink"))
    assert response["Location"] == reverse("accounts:home")
    account.refresh_from_db()
    assert account.franceconnect_sub is None
    assert messages_of(response) == ["FranceConnect n'est plus lié à votre compte."]
    assert AuditEvent.objects.filter(tag=EventTag.FRANCECONNECT_UNLINKED, account=account).exists()


def test_unlinking_is_refused_while_franceconnect_is_the_only_way_in(client, lea):
    account = active_guardian(sub=SUB, password=False, children=[lea])
    client.force_login(account)
    response = client.post(reverse("flows:franceconnect_unlink"))
    account.refresh_from_db()
    assert account.franceconnect_sub == SUB
    assert "Mot de passe perdu" in messages_of(response)[0]


def test_unlinking_needs_a_login_and_a_post(client):
    assert client.post(reverse("flows:franceconnect_unlink"))["Location"].startswith(reverse("flows:login"))
    account = active_guardian(sub=SUB)
    client.force_login(account)
    assert client.get(reverse("flows:franceconnect_unlink")).status_code == 405


def test_the_unlink_button_include(lea):
    linked = active_guardian(sub=SUB, children=[lea])
    html = render_to_string("signin/franceconnect/unlink_button.html", {"account": linked})
    assert reverse("flows:franceconnect_unlink") in html
    assert "Délier FranceConnect" in html
    linked.franceconnect_sub = None
    assert "Délier FranceConnect" not in render_to_string(
        "signin/franceconnect/unlink_button.html", {"account": linked}
    )
