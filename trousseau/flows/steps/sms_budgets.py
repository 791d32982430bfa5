"""The budgets every SMS of the journeys passes (SMS pumping: research/security.md §3, checks 12-14).

Per number (hour, day) and per address (hour); per foreign country calling code (hour), since pumping
fraud buys numbers abroad; and one daily budget per calling code, a breaker that stops sending to that
code when something goes wrong at scale, with an alert (an audit event and an error in the logs) for
the operators. There is no breaker for the whole service any more: a run on one foreign code spent it
and then no family anywhere got a code (issue #15, finding 9). A refused send looks the same to the
person whichever budget was spent.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings

from trousseau.audit.events import EventTag
from trousseau.audit.services import audit
from trousseau.core import ratelimit
from trousseau.core.http import address_block
from trousseau.core.phones import calling_code

log = logging.getLogger(__name__)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
COUNTRY_DAY_SCOPE = "sms:country:day"
# France and its overseas territories: their numbers are the schools' everyday ones.
HOME_CALLING_CODES = frozenset({33, 262, 269, 508, 590, 594, 596, 681, 687, 689})


def budgets(phone: str, ip: str) -> list[tuple[ratelimit.Budget, str]]:
    chosen = [
        (ratelimit.Budget("sms:phone:hour", settings.SMS_PER_PHONE_PER_HOUR, HOUR), phone),
        (ratelimit.Budget("sms:phone:day", settings.SMS_PER_PHONE_PER_DAY, DAY), phone),
        (ratelimit.Budget("sms:ip:hour", settings.SMS_PER_IP_PER_HOUR, HOUR), address_block(ip)),
    ]
    code = calling_code(phone)
    home = code in HOME_CALLING_CODES
    if not home:
        foreign = ratelimit.Budget("sms:country:hour", settings.SMS_PER_FOREIGN_COUNTRY_PER_HOUR, HOUR)
        chosen.append((foreign, str(code)))
    per_day = settings.SMS_PER_HOME_COUNTRY_PER_DAY if home else settings.SMS_PER_FOREIGN_COUNTRY_PER_DAY
    chosen.append((ratelimit.Budget(COUNTRY_DAY_SCOPE, per_day, DAY), str(code)))
    return chosen


def allowed(phone: str, ip: str) -> bool:
    """Take one SMS from every budget, or none and False when one is spent."""
    spent = ratelimit.take(budgets(phone, ip))
    if spent is None:
        return True
    if spent.scope == COUNTRY_DAY_SCOPE:
        code = calling_code(phone)
        log.error(
            "SMS: the daily budget of calling code +%s (%s) is spent; none to it until tomorrow", code, spent.limit
        )
        audit(EventTag.SMS_COUNTRY_BUDGET_SPENT, ip=ip, calling_code=code, limit=spent.limit)
    return False
