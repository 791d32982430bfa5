"""The mire's form under Shibboleth's field names, as ÉduConnect clients post them."""

from __future__ import annotations

from trousseau.signin.forms import LoginForm

# research/educonnect.md §4.1-4.3: j_username, j_password, and the optional typeUser (eleve/responsable).
SHIBBOLETH_NAMES = {"identifier": "j_username", "password": "j_password", "profile": "typeUser"}


class ShibbolethLoginForm(LoginForm):
    def add_prefix(self, field_name: str) -> str:
        # Django reads data and names inputs through add_prefix: renaming here renames both.
        return SHIBBOLETH_NAMES.get(field_name, field_name)
