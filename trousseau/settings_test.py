"""Test settings: only overrides of `trousseau.settings` (Django's locmem mail, outbox SMS)."""

import os

os.environ.setdefault("TROUSSEAU_SECRET_KEY", "test-only-secret-key-not-for-any-deployment-0123456789")
os.environ.setdefault("TROUSSEAU_OIDC_DEV_KEYS", "1")  # OpenID Connect keys generated once under var/oidc/

from trousseau.settings import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_COOKIES = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SESSION_COOKIE_NAME = "sessionid"  # the __Host- names need Secure, which plain-HTTP tests cannot give
CSRF_COOKIE_NAME = "csrftoken"
SECURE_HSTS_SECONDS = 0
SECURE_SSL_REDIRECT = False
SAML_DEV_KEYS = True  # key pairs generated once under var/saml/
