"""Test settings: only overrides of `trousseau.settings` (Django's locmem mail, outbox SMS)."""

import os

os.environ.setdefault("TROUSSEAU_SECRET_KEY", "test-only-secret-key-not-for-any-deployment-0123456789")

from trousseau.settings import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_COOKIES = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
