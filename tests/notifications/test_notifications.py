import pytest
from django.core import mail

from trousseau.notifications.models import Channel, OutboxMessage
from trousseau.notifications.services import send_email, send_sms

pytestmark = pytest.mark.django_db


def test_sms_goes_to_the_outbox_twin():
    send_sms(to="+33612345678", body="Votre code : 123456")
    message = OutboxMessage.objects.get()
    assert (message.channel, message.to, message.body) == (Channel.SMS, "+33612345678", "Votre code : 123456")


def test_email_uses_the_configured_django_backend():
    send_email(
        to="a@example.fr",
        subject="Sujet",
        template="flows/email_verification/email.txt",
        context={"account": {"first_name": "Léa", "identifier": "l.x01"}, "link": "http://x/y"},
    )
    assert mail.outbox[0].to == ["a@example.fr"]
    assert "Bonjour Léa" in mail.outbox[0].body


def test_outbox_email_backend_stores_messages(settings):
    settings.EMAIL_BACKEND = "trousseau.notifications.email_backends.OutboxEmailBackend"
    mail.send_mail("Sujet", "Corps", "from@example.fr", ["a@example.fr", "b@example.fr"])
    assert sorted(OutboxMessage.objects.values_list("to", flat=True)) == ["a@example.fr", "b@example.fr"]


def test_dev_outbox_page_shows_what_the_twins_sent(client, settings):
    settings.DEBUG = True
    send_sms(to="+33612345678", body="Votre code : 123456")
    response = client.get("/dev/outbox/")
    assert response.status_code == 200
    assert "+33612345678" in response.text
    assert "Votre code : 123456" in response.text
