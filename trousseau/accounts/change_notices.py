"""Telling the channels an account had that its email or mobile changed, and "Ce n'était pas moi".

A change of a recovery channel is told on the channels that were there before it (ASVS 5.0 V6.3.7:
the previous verified email, the previous or recorded mobile), so that someone who borrowed a session
and knew the password cannot quietly make the account theirs. The notice carries a sealed link, valid
`CHANGE_REPORT_LIFESPAN`: following it puts the previous channel back if the change still stands,
cancels an address still waiting for its verification, ends every session and disables the password
(whoever made the change knew it), so the holder chooses a new one with "Mot de passe perdu", which
now reaches them again. Only the holder of a previous channel receives the link: that channel could
reset the password before the change anyway. The link is sealed (`core.sealing`, AES-GCM, so it is
authenticated too): a phone or an email never shows in clear in an address that web server logs keep.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from trousseau.accounts.models import Account, AccountState
from trousseau.accounts.sessions import sessions_end
from trousseau.audit.events import EventTag
from trousseau.audit.models import AuditEvent
from trousseau.audit.services import audit
from trousseau.core import sealing
from trousseau.core.secrets import keyed_digest
from trousseau.notifications.services import send_email, send_sms

SALT = "trousseau.accounts.change-report"
EMAIL, MOBILE = "email", "mobile"
NOTICE_SMS = {
    EMAIL: (
        "Trousseau : une nouvelle adresse email a été demandée pour le compte {identifier}. "
        "Si ce n'est pas vous : {link}"
    ),
    MOBILE: (
        "Trousseau : le numéro de portable du compte {identifier} vient d'être changé. Si ce n'est pas vous : {link}"
    ),
}
NOTICE_SUBJECT = {
    EMAIL: "Une nouvelle adresse email a été demandée pour votre compte Trousseau",
    MOBILE: "Le numéro de portable de votre compte Trousseau a changé",
}


@dataclass(frozen=True)
class Report:
    """What a "Ce n'était pas moi" link speaks for: the account, the kind of change, before and after."""

    account: Account
    what: str
    old: str
    new: str


def report_link(account: Account, *, what: str, old: str, new: str) -> str:
    # Sealed rather than signed: authenticated all the same, and shorter (it goes in an SMS).
    token = sealing.seal(json.dumps([account.pk, what, old, new, int(time.time())]), purpose=SALT)
    return settings.PUBLIC_URL.rstrip("/") + reverse("accounts:report_change", args=[token])


def notify_change(  # noqa: PLR0913 - the change and the channels to tell, all named
    account: Account, *, what: str, old: str, new: str, to_email: str, to_phone: str, ip: str | None
) -> list[str]:
    """Tell `to_email` and `to_phone` (either may be empty) of the change; returns the channels used."""
    link = report_link(account, what=what, old=old, new=new)
    told = []
    if to_email:
        send_email(
            to=to_email,
            subject=NOTICE_SUBJECT[what],
            template="accounts/email/change_notice.txt",
            context={"account": account, "what": what, "link": link, "ending": _masked(what, new)},
        )
        told.append("email")
    if to_phone:
        send_sms(to=to_phone, body=NOTICE_SMS[what].format(identifier=account.identifier, link=link))
        told.append("sms")
    audit(EventTag.CHANGE_NOTICE_SENT, account=account, ip=ip, change=what, channels=told)
    return told


def _masked(what: str, value: str) -> str:
    """Enough of the new value for the holder to recognise it, not enough to reach it."""
    if what == MOBILE:
        return f"•• {value[-2:]}"
    local, _, domain = value.partition("@")
    return f"{local[:1]}•••@{domain}"


def read_report(token: str) -> Report | None:
    """The change a link speaks for, or None when it is forged, expired or for no live account."""
    try:
        pk, what, old, new, issued = json.loads(sealing.unseal(token, purpose=SALT))
    except (sealing.Unsealable, ValueError, TypeError):
        return None
    if not 0 <= time.time() - issued <= settings.CHANGE_REPORT_LIFESPAN.total_seconds() or what not in {EMAIL, MOBILE}:
        return None
    account = Account.objects.filter(pk=pk, state=AccountState.ACTIVE).first()
    if account is None or _used(account, token):
        return None
    return Report(account, str(what), str(old), str(new))


def _link_digest(token: str) -> str:
    return keyed_digest(token, purpose=SALT)[:32]


def _used(account: Account, token: str) -> bool:
    """A link serves once: whoever reads the old channel later must not disable the password again and again."""
    reports = AuditEvent.objects.filter(account=account, tag=EventTag.CHANGE_REPORTED)
    return reports.filter(data__link=_link_digest(token)).exists()


def change_report(token: str, *, ip: str | None = None) -> Account | None:
    """ "Ce n'était pas moi": undo the change if it stands, end every session, disable the password.

    None (audited) when the link is forged or expired.
    """
    report = read_report(token)
    if report is None:  # forged, expired, already used, or the account is gone
        audit(EventTag.CHANGE_REPORT_REFUSED, ip=ip, reason="bad_token")
        return None
    with transaction.atomic():
        locked = Account.objects.select_for_update().get(pk=report.account.pk)
        restored = _restore(locked, report)
        locked.set_unusable_password()
        locked.save()
        ended = sessions_end(locked)
        audit(
            EventTag.CHANGE_REPORTED,
            account=locked,
            ip=ip,
            change=report.what,
            restored=restored,
            sessions_ended=ended,
            link=_link_digest(token),
        )
    return locked


def _restore(account: Account, report: Report) -> bool:
    """Put the previous channel back where the reported change still stands; True if anything moved."""
    now = timezone.now()
    if report.what == EMAIL:
        if account.pending_email.lower() == report.new.lower():
            account.pending_email = ""
            return True
        if account.email.lower() == report.new.lower() and report.old:
            account.email, account.email_verified_at = report.old, now
            return True
        return False
    if account.phone == report.new:
        account.phone, account.phone_verified_at = report.old, now if report.old else None
        return True
    return False
