"""The authorization endpoint's answers, as django-oauth-toolkit's view gave them before authorize.py.

Written against the toolkit's view first (these tests passed on it unchanged), then kept for the
code flow written out: every answer, its order of checks, what is audited and what the code's row
holds (what tokens.py reads). RFC 6749 §4.1.1-4.1.2.1, §3.1.2; RFC 7636 §4.3-4.4; RFC 9207;
OpenID Connect Core §3.1.2.1-3.1.2.6.
"""
