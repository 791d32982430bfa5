"""Trousseau: identity service for schools and families."""
