"""Per-address guards count an IPv6 /64 as one address (issue #15 finding 8)."""

from __future__ import annotations

import pytest

from trousseau.accounts.authentication import login_guards
from trousseau.console.authentication import code_guards, password_guards
from trousseau.core.http import address_block
from trousseau.flows.franceconnect_first_login import transitions as franceconnect_first_login
from trousseau.flows.self_registration import transitions as self_registration
from trousseau.flows.steps import sms_budgets

ONE = "2001:db8:4a1:7c00:1111:2222:3333:4444"
SAME_64 = "2001:db8:4a1:7c00:ffff:eeee:dddd:1"
NEXT_64 = "2001:db8:4a1:7c01::1"


@pytest.mark.parametrize(
    ("ip", "block"),
    [
        ("198.51.100.7", "198.51.100.7"),
        (ONE, "2001:db8:4a1:7c00::/64"),
        (SAME_64, "2001:db8:4a1:7c00::/64"),
        ("2001:DB8:4A1:7C00::1", "2001:db8:4a1:7c00::/64"),  # one address, however written
        ("fe80::1%eth0", "fe80::/64"),
        ("::ffff:192.0.2.1", "192.0.2.1"),  # a dual-stack socket's IPv4 client
        ("", ""),
        ("not an address", "not an address"),
    ],
)
def test_an_ipv6_address_counts_as_its_slash64(ip, block):
    assert address_block(ip) == block


def test_every_per_address_guard_and_budget_counts_the_slash64():
    def per_address_values(ip: str) -> list[str]:
        guards = [
            *login_guards("j.dupont12", ip)[1:],
            password_guards("a@b.fr", ip)[1],
            self_registration._guard(ip),
            franceconnect_first_login._guards(ip, "sub")[0],
        ]
        budgets = [value for budget, value in sms_budgets.budgets("+33612345678", ip) if "ip" in budget.scope]
        return [guard.key for guard in guards] + budgets

    assert per_address_values(ONE) == per_address_values(SAME_64)
    assert per_address_values(ONE) != per_address_values(NEXT_64)


@pytest.mark.django_db
def test_console_code_guard_counts_the_slash64():
    from tests import factories
    from tests.console import helpers

    member = helpers.staff(school=factories.school())
    assert code_guards(member, ONE)[1].key == code_guards(member, SAME_64)[1].key


@pytest.mark.django_db
def test_recovery_budgets_count_the_slash64(settings):
    from trousseau.flows.lost_password import transitions as lost_password

    settings.SMS_PER_IP_PER_HOUR = 1  # the lost-password budget per address is twice this
    assert lost_password._requests_allowed(ONE)
    assert lost_password._requests_allowed(SAME_64)
    assert not lost_password._requests_allowed("2001:db8:4a1:7c00::9")
    assert lost_password._requests_allowed(NEXT_64)


def test_no_per_address_scope_counts_the_raw_address():
    """A new guard or budget named `…:ip…` must count `address_block(ip)`, not the raw address."""
    from pathlib import Path

    import trousseau

    root = Path(trousseau.__file__).parent
    raw = [
        f"{path.relative_to(root)}: {line.strip()}"
        for path in root.rglob("*.py")
        for line in path.read_text().splitlines()
        if ('Guard("' in line or 'Budget("' in line) and ":ip" in line and "address_block(ip)" not in line
    ]
    assert not raw, raw
