"""What the service knows of the client behind a request."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

# One IPv6 subscriber gets at least a /64 (RFC 6177) and picks any address inside it at will
# (privacy addresses, RFC 8981): a per-address guard that counted full IPv6 addresses would give
# every new address of that /64 a fresh allowance.
IPV6_SUBSCRIBER_PREFIX = 64


def client_ip(request: HttpRequest) -> str:
    """The client address; the proxy header is trusted only when the operator names it."""
    header = settings.CLIENT_IP_HEADER
    if header:
        forwarded = request.META.get(header, "")
        if forwarded:
            # The last hop was added by our own proxy; earlier ones are client-controlled.
            return str(forwarded.split(",")[-1].strip())
    return str(request.META.get("REMOTE_ADDR", ""))


def address_block(ip: str) -> str:
    """What a per-address throttle or budget counts: an IPv4 address, or the /64 of an IPv6 one.

    The audit trail keeps the full address (`client_ip`); only the guards count by block. An
    IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, a dual-stack socket) is its IPv4 address. A value
    that is no address (an empty REMOTE_ADDR in tests, a proxy header gone wrong) is counted as is.
    """
    try:
        address = ipaddress.ip_address(ip.strip().split("%", 1)[0])  # a zone index names no other host
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_SUBSCRIBER_PREFIX), strict=False))
    return str(address)
