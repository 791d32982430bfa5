"""OpenID Connect provider (django-oauth-toolkit underneath): see docs/oidc.md."""
