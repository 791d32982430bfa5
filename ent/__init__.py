"""A demo ENT (espace numérique de travail): the portal of the seeds and a SAML service provider.

It stands apart from Trousseau on purpose: its own small WSGI application, its own SAML library
(OneLogin's python3-saml, where Trousseau's IdP uses another), and it never imports `trousseau`.
It talks to Trousseau only as a real ENT talks to ÉduConnect: metadata, browser redirects and POSTs.
"""
