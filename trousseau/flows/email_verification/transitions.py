"""Email verification by a signed link (seed 004 case 3, step 3).

The link is state-bound like Django's password-reset tokens: it names the account and the email,
and once that email is verified (or replaced) the same link no longer verifies anything. A new
address of an account that has a verified one waits in `pending_email` and replaces it only when its
link is followed (issue #15, finding 5).
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext

from trousseau.accounts import services as account_services
from trousseau.accounts.models import Account, AccountState
from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.notifications.services import send_email

SALT = "trousseau.email-verification"


def make_link(account: Account, email: str) -> str:
    token = signing.dumps({"a": account.pk, "e": email}, salt=SALT, compress=True)
    return settings.PUBLIC_URL.rstrip("/") + reverse("flows:email_verification", args=[token])


def send(account: Account, *, ip: str | None = None) -> None:
    """Send the verification link to the account's address awaiting it (pending, else unverified); none if none."""
    email = account_services.email_awaiting_verification(account)
    if not email:
        return
    send_email(
        to=email,
        subject=gettext("Confirmez votre adresse email"),
        template="flows/email_verification/email.txt",
        context={"account": account, "email": email, "link": make_link(account, email)},
    )
    audit(EventTag.EMAIL_VERIFICATION_SENT, account=account, ip=ip)


def read(token: str) -> tuple[Account, str] | None:
    """The account and email a link speaks for, or None if tampered, expired or not for a live account."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.EMAIL_VERIFICATION_LIFESPAN)
    except signing.BadSignature:
        return None
    account = Account.objects.filter(pk=data.get("a"), state=AccountState.ACTIVE).first()
    if account is None:
        return None
    return account, str(data.get("e", ""))


def confirm(token: str, *, ip: str | None = None) -> Account | None:
    """Verify the email a link names; None (audited) when the link is stale, used or forged."""
    found = read(token)
    if found is None:
        audit(EventTag.EMAIL_VERIFICATION_FAILURE, ip=ip, reason="bad_token")
        return None
    account, email = found
    if not account_services.account_verify_email(account=account, email=email, ip=ip):
        audit(EventTag.EMAIL_VERIFICATION_FAILURE, account=account, ip=ip, reason="stale")
        return None
    return account
