"""Settings of the protocols: the FranceConnect relying party, the SAML identity provider, the OpenID
Connect provider. Read from the environment like the others (base.py), which they build on."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from trousseau.federation.oidc.provider_settings import oauth2_provider_settings
from trousseau.settings.base import (
    BASE_DIR,
    CONTENT_SECURITY_POLICY,
    DEBUG,
    PUBLIC_URL,
    SESSION_COOKIE_AGE,
    env,
    env_bool,
)

# --- FranceConnect relying party (trousseau/franceconnect) ------------------------------
# The base URL is FranceConnect's issuer: https://fcp-low.sbx.dev-franceconnect.fr/api/v2 (sandbox),
# https://oidc.franceconnect.gouv.fr/api/v2 (production), or the local stand-in that `make run` starts.
# The redirect and post-logout URIs to register are PUBLIC_URL + /franceconnect/retour/ and
# PUBLIC_URL + /franceconnect/deconnexion/.
FRANCECONNECT_BASE_URL = env("TROUSSEAU_FRANCECONNECT_BASE_URL", "")
FRANCECONNECT_CLIENT_ID = env("TROUSSEAU_FRANCECONNECT_CLIENT_ID", "")
FRANCECONNECT_CLIENT_SECRET = env("TROUSSEAU_FRANCECONNECT_CLIENT_SECRET", "")
FRANCECONNECT_SCOPES = env(
    "TROUSSEAU_FRANCECONNECT_SCOPES",
    "openid given_name family_name birthdate gender birthplace birthcountry preferred_username email",
)
FRANCECONNECT_ENABLED = env_bool("TROUSSEAU_FRANCECONNECT_ENABLED", default=bool(FRANCECONNECT_BASE_URL))
FRANCECONNECT_SIGNING_ALG = env("TROUSSEAU_FRANCECONNECT_SIGNING_ALG", "ES256")  # as registered: ES256 or RS256
FRANCECONNECT_ACR_VALUES = "eidas1"
FRANCECONNECT_HTTP_TIMEOUT = float(env("TROUSSEAU_FRANCECONNECT_HTTP_TIMEOUT", "10"))
FRANCECONNECT_CLOCK_LEEWAY = 30  # seconds of clock skew accepted on exp and iat
FRANCECONNECT_METADATA_TTL = 3600  # seconds the discovery document and the keys are cached
if FRANCECONNECT_ENABLED and FRANCECONNECT_BASE_URL:
    # Logout is a form POST answered by a redirect to FranceConnect's /session/end: CSP form-action
    # applies to that redirect too.
    from urllib.parse import urlsplit as _urlsplit

    _fc = _urlsplit(FRANCECONNECT_BASE_URL)
    _directives: dict[str, list[str]] = CONTENT_SECURITY_POLICY["DIRECTIVES"]  # type: ignore[assignment]
    _directives["form-action"] = [*_directives["form-action"], f"{_fc.scheme}://{_fc.netloc}"]
# --- end of FranceConnect settings ------------------------------------------------------------------

# --- SAML 2.0 identity provider (trousseau/federation/saml) ----------------------------------------
# Keys and certificates: a file path or the PEM text itself. Without them the debug server and the
# tests use key pairs generated once under var/saml/ (never committed); a deployment sets them, the
# same for every web process. Rollover: publish TROUSSEAU_SAML_NEXT_SIGNING_CERT in the metadata for
# as long as SPs take to refresh it, then make that pair the signing one and clear the "next" one.
SAML_ENTITY_ID = env("TROUSSEAU_SAML_ENTITY_ID", "")  # empty: PUBLIC_URL + "/idp", as ÉduConnect's
SAML_SIGNING_KEY = env("TROUSSEAU_SAML_SIGNING_KEY", "")
SAML_SIGNING_CERT = env("TROUSSEAU_SAML_SIGNING_CERT", "")
SAML_NEXT_SIGNING_CERT = env("TROUSSEAU_SAML_NEXT_SIGNING_CERT", "")
SAML_ENCRYPTION_KEY = env("TROUSSEAU_SAML_ENCRYPTION_KEY", "")
SAML_ENCRYPTION_CERT = env("TROUSSEAU_SAML_ENCRYPTION_CERT", "")
SAML_DEV_KEYS = env_bool("TROUSSEAU_SAML_DEV_KEYS", default=DEBUG)
SAML_DEV_KEY_DIR = BASE_DIR / "var" / "saml"
SAML_XMLSEC_BINARY = env("TROUSSEAU_SAML_XMLSEC_BINARY", "/usr/bin/xmlsec1")
SAML_ASSERTION_LIFETIME = timedelta(minutes=5)
SAML_REQUEST_MAX_AGE = timedelta(minutes=5)  # an AuthnRequest older than this is refused
SAML_CLOCK_SKEW = timedelta(minutes=3)
SAML_METADATA_MAX_BYTES = 2 * 1024 * 1024
SAML_METADATA_TIMEOUT = float(env("TROUSSEAU_SAML_METADATA_TIMEOUT", "10"))
# The login steps are ÉduConnect's since 2025 (federation/saml/login.py, docs/saml.md): e1s1 local-storage
# page, e1s2 login form, e1s3 local-storage page, then the SAMLResponse. "compat" (default) also lets the
# clients written before (pronotepy <= 2.15.7) through: their credentials POST without csrf_token leads
# from e1s1 on to e1s2, where their re-post gets the SAMLResponse at once. "strict" answers such POSTs
# with 400, as ÉduConnect does. "faithful", the older name of a mode nearer to strict, means "strict".
_login_mode = env("TROUSSEAU_SAML_LOGIN_MODE", "compat")
SAML_LOGIN_MODE = "strict" if _login_mode == "faithful" else _login_mode
if SAML_LOGIN_MODE not in {"compat", "strict"}:
    raise ImproperlyConfigured(f"TROUSSEAU_SAML_LOGIN_MODE must be compat or strict, not {SAML_LOGIN_MODE!r}")
# --- end of SAML settings ----------------------------------------------------------------------------

# --- OpenID Connect provider (trousseau/federation/oidc, docs/oidc.md) ------------------------------
# Issuer: PUBLIC_URL (discovery at PUBLIC_URL + /.well-known/openid-configuration). Signing keys:
# TROUSSEAU_OIDC_KEYS_DIR holds current.pem, next.pem and retired/*.pem (oidc/keyfiles.py), the same
# for every web process. Without TROUSSEAU_OIDC_DEV_KEYS (on in debug and tests) a missing
# current.pem stops the start rather than generate a key that the other processes would not share.
OIDC_KEYS_DIR = Path(env("TROUSSEAU_OIDC_KEYS_DIR", str(BASE_DIR / "var" / "oidc")))
OIDC_DEV_KEYS = env_bool("TROUSSEAU_OIDC_DEV_KEYS", default=DEBUG)
OIDC_BACKCHANNEL_TIMEOUT = float(env("TROUSSEAU_OIDC_BACKCHANNEL_TIMEOUT", "5"))  # seconds per client
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"  # named for migrations; not swapped
OAUTH2_PROVIDER = oauth2_provider_settings(
    issuer=PUBLIC_URL, keys_dir=OIDC_KEYS_DIR, dev_keys=OIDC_DEV_KEYS, session_age=SESSION_COOKIE_AGE
)
# --- end of OpenID Connect settings -------------------------------------------------------------------
