"""Federation with identity providers and service providers.

Each protocol lives in its own package (`franceconnect`, later `saml`, `oidc`) and never imports the
others; they meet at one claims mapping. The packages here speak the protocol and verify what comes in;
what it means for accounts is decided by `trousseau.accounts` and the journeys in `trousseau.flows`.
"""
