"""A FranceConnect v2 relying party ("fournisseur de service").

`client` builds the authorization request and completes the callback (token exchange, ID token and
signed-JWT userinfo verified by `tokens` with keys from `keys`); `config` reads the settings. Every
refusal is a `FranceConnectError` whose `reason` names the rule that was broken, for the audit trail.
The facts and the checklist these modules follow: ../shared/research/franceconnect.md.
"""
