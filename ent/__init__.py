"""The demo services that sign in through Trousseau: an ENT (espace numérique de travail) with the seeds'
portal, a téléservices-like site (both SAML service providers) and a Pronote-like site (an OpenID
Connect relying party).

They stand apart from Trousseau on purpose: one small WSGI application run in three modes
(`python -m ent serve --mode ent|teleservices|pronote`), with its own libraries (OneLogin's
python3-saml and Authlib's client, where Trousseau uses pysaml2 and django-oauth-toolkit), and it
never imports `trousseau`. It talks to Trousseau only as real services talk to ÉduConnect: metadata,
discovery, browser redirects and POSTs, and server-to-server token calls.
"""
