"""An aiosmtpd handler that refuses one recipient at RCPT (550 5.1.1), rejects the message to another at DATA
(554 5.7.1, as a content filter does) and keeps each envelope sender."""

from __future__ import annotations

from typing import Any

from tests.smtp import Mailbox

REFUSED = "inconnu@exemple.fr"
REJECTED_AT_DATA = "filtre@exemple.fr"


class RefusingMailbox(Mailbox):
    """Keeps each message with its envelope sender; refuses two recipients as real servers would."""

    def __init__(self) -> None:
        super().__init__()
        self.envelopes: dict[str, str] = {}  # recipient -> MAIL FROM

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802 - aiosmtpd hook
        if address == REFUSED:
            return "550 5.1.1 <inconnu@exemple.fr>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        if REJECTED_AT_DATA in envelope.rcpt_tos:
            return "554 5.7.1 Message rejected as spam by content filter"
        for rcpt in envelope.rcpt_tos:
            self.envelopes[rcpt] = envelope.mail_from
        return await super().handle_DATA(server, session, envelope)
