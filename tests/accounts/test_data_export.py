""" "Télécharger mes données": what the JSON holds (and never holds), and the page that gives it."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.accounts.helpers import activate, active_pupil, logged_in
from trousseau.accounts.data_export import export_document
from trousseau.accounts.models import Account
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.audit.services import audit
from trousseau.flows.models import CodePurpose, Flow, FlowKind, FlowState, OneTimeCode

pytestmark = pytest.mark.django_db
EXPORT = reverse("accounts:export")
WRONG = "Le mot de passe est incorrect. Aucune donnée n'a été téléchargée."


@pytest.fixture
def family() -> tuple[Account, str]:
    """An active guardian of two children at two schools; returns the account and its letter's password."""
    school = factories.school(uai="0141234K", name="Collège Jean-Moulin")
    zoe = factories.pupil(school=school, first_name="Zoé", last_name="Dupont", class_name="4e A")
    tom = factories.pupil(school=factories.school(name="École Prévert"), first_name="Tom", last_name="Dupont")
    account, _, letter_password = factories.guardian_account(
        children=[zoe, tom], first_name="Sophie", last_name="Dupont", email="sophie@exemple.fr", school=school
    )
    activate(account)
    Account.objects.filter(pk=account.pk).update(franceconnect_sub="fc-sub-secret-123", phone="+33612345678")
    account.refresh_from_db()
    return account, letter_password


def test_the_document_holds_the_account_its_records_sessions_services_and_history(family):
    account, _ = family
    logged_in(account, HTTP_USER_AGENT="Mozilla/5.0 (Android 14; Mobile) Firefox/128.0")
    audit(EventTag.OIDC_CODE_ISSUED, account=account, ip="203.0.113.9", client="pronote-demo")
    audit(EventTag.OIDC_CODE_ISSUED, account=account, ip="203.0.113.9", client="pronote-demo")
    audit(EventTag.SAML_ASSERTION_ISSUED, account=account, ip="203.0.113.9", service="https://ent.example/sp")
    doc = export_document(account)

    assert doc["account"]["identifier"] == account.identifier
    assert (doc["account"]["kind"], doc["account"]["state"]) == ("guardian", "active")
    assert doc["account"]["franceconnect_linked"] is True
    assert doc["account"]["phone"] == "+33612345678"
    children = {(c["first_name"], c["school"]["name"]) for c in doc["directory"]["children"]}
    assert children == {("Zoé", "Collège Jean-Moulin"), ("Tom", "École Prévert")}
    [record] = doc["directory"]["guardian_records"]
    assert (record["first_name"], record["email"], record["school"]) == ("Sophie", "sophie@exemple.fr", "0141234K")
    [letter] = doc["letters"]
    assert letter["used_at"] is not None
    assert doc["sessions"][0]["user_agent"].startswith("Mozilla/5.0 (Android 14")
    assert [(s["protocol"], s["service"], s["logins"]) for s in doc["services"]] == [
        ("openid_connect", "pronote-demo", 2),
        ("saml", "https://ent.example/sp", 1),
    ]
    labels = [event["label"] for event in doc["events"]]
    assert "Connexion réussie" in labels
    assert "Connexion à un service en ligne" in labels


def test_no_hash_code_secret_or_staff_data_leaks(family):
    account, letter_password = family
    flow = Flow.objects.create(
        kind=FlowKind.LOST_PASSWORD,
        state=FlowState.AWAITING_CODE,
        account=account,
        expires_at=timezone.now(),
        session_binding="binding-digest-abc",
    )
    code = OneTimeCode.objects.create(
        flow=flow,
        purpose=CodePurpose.LOST_PASSWORD,
        phone="+33612345678",
        code_digest="c0de" * 16,
        expires_at=timezone.now(),
    )
    audit(EventTag.CONSOLE_ACCOUNT_RESET, account=account, staff=7, staff_email="agent@ac-normandie.fr")
    text = json.dumps(export_document(account), ensure_ascii=False)

    secrets = [
        account.password,  # the argon2 hash
        account.letters.get().password_hash,
        letter_password,
        code.code_digest,
        flow.session_binding,
        "fc-sub-secret-123",
        "agent@ac-normandie.fr",
    ]
    for secret in secrets:
        assert secret
        assert secret not in text, secret
    assert "argon2" not in text


def test_a_pupil_gets_the_own_record_with_school():
    pupil = active_pupil(school=factories.school(uai="0761234Z", name="Lycée Colbert"), first_name="Léa")
    directory = export_document(pupil)["directory"]
    assert directory["pupil"]["first_name"] == "Léa"
    assert directory["pupil"]["school"] == {"uai": "0761234Z", "name": "Lycée Colbert"}
    assert directory["pupil"]["birth_date"] == "2012-03-14"


# --- The page ------------------------------------------------------------------------------------


def test_the_page_requires_login(client: Client):
    for response in (client.get(EXPORT), client.post(EXPORT, {"password": factories.GOOD_PASSWORD})):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("flows:login"))


def test_the_account_page_leads_to_the_export(family):
    account, _ = family
    client = logged_in(account)
    assert "Télécharger mes données" in client.get(reverse("accounts:home")).text
    page = client.get(EXPORT)
    assert page.status_code == 200
    assert "saisissez à nouveau votre mot de passe" in page.text


def test_the_right_password_downloads_the_json_and_audits_it(family):
    account, _ = family
    client = logged_in(account)
    response = client.post(EXPORT, {"password": factories.GOOD_PASSWORD})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith(f'attachment; filename="trousseau-{account.identifier}-')
    assert response["Cache-Control"] == "no-store"
    assert json.loads(response.content)["account"]["identifier"] == account.identifier
    assert AuditEvent.objects.filter(account=account, tag=EventTag.DATA_EXPORTED).count() == 1


def test_a_wrong_password_is_refused_in_french_and_exports_nothing(family):
    account, _ = family
    client = logged_in(account)
    response = client.post(EXPORT, {"password": "Pas#LeBon2024"})
    assert response.status_code == 400
    assert "Content-Disposition" not in response
    assert response["Content-Type"].startswith("text/html")
    assert WRONG in response.text
    assert not AuditEvent.objects.filter(tag=EventTag.DATA_EXPORTED).exists()
    refused = AuditEvent.objects.get(tag=EventTag.DATA_EXPORT_REFUSED)
    assert (refused.account, refused.data) == (account, {"reason": "wrong_password"})


def test_an_empty_password_is_asked_for(family):
    account, _ = family
    response = logged_in(account).post(EXPORT, {"password": ""})
    assert response.status_code == 400
    assert "Saisissez votre mot de passe." in response.text
    assert not AuditEvent.objects.filter(tag__startswith="account:data:").exists()


def test_guessing_is_throttled_like_the_mire(family, settings):
    account, _ = family
    client = logged_in(account)
    for _ in range(settings.THROTTLE_ACCOUNT_FREE_FAILURES + 1):  # the last one starts a delay
        assert client.post(EXPORT, {"password": "Pas#LeBon2024"}).status_code == 400
    response = client.post(EXPORT, {"password": factories.GOOD_PASSWORD})  # right, but the identifier waits
    assert response.status_code == 400
    assert "Trop de tentatives. Patientez" in response.text
    assert "Content-Disposition" not in response
    assert AuditEvent.objects.filter(tag=EventTag.DATA_EXPORT_REFUSED, data__reason="throttled").count() == 1
