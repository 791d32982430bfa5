"""Recipients shown to support once a message is settled: enough to recognise them, not to reach them.

A settled `Delivery` keeps `+33 6 •• •• •• 78` or `j•••@exemple.fr` (the domain tells a bounce's
cause), and an error a gateway or SMTP server sent back loses the number or address it quoted.
"""

from __future__ import annotations

import re

from trousseau.core.phones import mask as mask_phone
from trousseau.notifications.models import Channel


def mask_email(address: str) -> str:
    local, at, domain = address.rpartition("@")
    return f"{local[:1]}•••@{domain}" if at and local else "•••"


def mask_recipient(channel: str, recipient: str) -> str:
    return mask_phone(recipient) if channel == Channel.SMS else mask_email(recipient)


def scrub(text: str, *, channel: str, recipient: str) -> str:
    """`text` without the recipient in any form a server quotes it (E.164 with or without "+", any case)."""
    if not recipient:
        return text
    forms = {recipient, recipient.removeprefix("+")} if channel == Channel.SMS else {recipient}
    pattern = "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))
    return re.sub(pattern, mask_recipient(channel, recipient), text, flags=re.IGNORECASE)
