"""An aiosmtpd handler that refuses one recipient at RCPT (550 5.1.1) and keeps each envelope sender."""

from __future__ import annotations

from typing import Any

from tests.smtp import Mailbox

REFUSED = "inconnu@exemple.fr"


class RefusingMailbox(Mailbox):
    """Keeps each message with its envelope sender; refuses one recipient as a real server would."""

    def __init__(self) -> None:
        super().__init__()
        self.envelopes: dict[str, str] = {}  # recipient -> MAIL FROM

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802 - aiosmtpd hook
        if address == REFUSED:
            return "550 5.1.1 <inconnu@exemple.fr>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        for rcpt in envelope.rcpt_tos:
            self.envelopes[rcpt] = envelope.mail_from
        return await super().handle_DATA(server, session, envelope)
