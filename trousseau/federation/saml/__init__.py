"""The SAML 2.0 identity provider, at ÉduConnect's Shibboleth paths (research/educonnect.md §2.1).

pysaml2 parses and verifies what service providers send (xmlsec1 checks their signatures) and builds
the responses, which `signing` signs and `encryption` encrypts in this process. Around it, this
package keeps what pysaml2 leaves to the caller: the registry of service providers (`models`,
`metadata`), the keys (`keys`), bounded decoding and the request checks it does not make (`inbound`),
the single sign-on state kept in the browser session (`state`), the login steps that ÉduConnect
clients of both generations drive (`views.sso`, `login`) and single logout (`slo`). Accounts become attributes only through `trousseau.federation.claims`.
"""
