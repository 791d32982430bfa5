"""Letter emails returned after SMTP accepted them: delivery status notifications (RFC 3464) read from a mailbox.

A remote server that cannot deliver sends a DSN to the envelope sender, `<local>+<token>@<domain>`
(`letter_emails.envelope_sender`). The token is found in the address the DSN came to (To,
Delivered-To, X-Original-To, Envelope-To) or, when a relay rewrote it, in the returned message's
Message-ID (`<lettre.<token>@…>`). Only `Action: failed` counts: `delayed`, `delivered`,
`relayed` and `expanded` leave the row as it is.
"""

from __future__ import annotations

import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

from trousseau.console.services.letter_emails import mark_bounced

HEX32 = r"[0-9a-f]{32}"  # the VERP part: secrets.token_hex(16)
ADDRESS_TOKEN = re.compile(rf"\+({HEX32})@", re.IGNORECASE)
MESSAGE_ID_TOKEN = re.compile(rf"<lettre\.({HEX32})@", re.IGNORECASE)
DESTINATION_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "To")
STATUS = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}$")


@dataclass
class BounceReport:
    read: int = 0
    bounced: int = 0
    not_failures: int = 0  # DSNs saying delayed/delivered/relayed, and messages that are no DSN
    unknown: list[str] = field(default_factory=list)  # failures naming no letter email we know


@dataclass(frozen=True)
class Failure:
    token: str | None
    status: str


def messages(path: Path) -> Iterator[Message]:
    """The messages of a Maildir (a directory with cur/new/tmp) or of an mbox file."""
    box: mailbox.Maildir | mailbox.mbox = (
        mailbox.Maildir(path, create=False) if path.is_dir() else mailbox.mbox(path, create=False)
    )
    try:
        for _key, message in box.iteritems():
            yield message
    finally:
        box.close()


def _token(dsn: Message) -> str | None:
    for header in DESTINATION_HEADERS:
        for value in dsn.get_all(header, []):
            if found := ADDRESS_TOKEN.search(str(value)):
                return found.group(1).lower()
    for part in dsn.walk():
        if part.get_content_type() in {"message/rfc822", "text/rfc822-headers"}:
            payload = part.get_payload()
            text = str(payload[0]) if isinstance(payload, list) and payload else str(payload)
            if found := MESSAGE_ID_TOKEN.search(text):
                return found.group(1).lower()
    return None


def _per_recipient_fields(dsn: Message) -> list[Message]:
    """The per-recipient blocks of the message/delivery-status part (the first block is per-message)."""
    for part in dsn.walk():
        if part.get_content_type() == "message/delivery-status":
            blocks = part.get_payload()
            return [b for b in blocks[1:] if isinstance(b, Message)] if isinstance(blocks, list) else []
    return []


def failure(dsn: Message) -> Failure | None:
    """What a DSN reports, when it reports a failed delivery; None for anything else."""
    if dsn.get_content_type() != "multipart/report" or dsn.get_param("report-type") != "delivery-status":
        return None
    for block in _per_recipient_fields(dsn):
        if str(block.get("Action", "")).strip().lower() == "failed":
            status = str(block.get("Status", "")).strip().split(" ", 1)[0]
            return Failure(_token(dsn), status if STATUS.match(status) else "5.0.0")
    return None


def read_bounces(path: Path) -> BounceReport:
    """Mark bounced every sent letter email a DSN in the mailbox says failed; idempotent."""
    result = BounceReport()
    for message in messages(path):
        result.read += 1
        found = failure(message)
        if found is None:
            result.not_failures += 1
        elif found.token is not None and mark_bounced(found.token, found.status):
            result.bounced += 1
        else:
            result.unknown.append(str(message.get("Message-ID", "")))
    return result
