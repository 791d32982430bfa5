"""Reading the pages as clients do: the first form, its action and its inputs."""

from __future__ import annotations

import base64
from html.parser import HTMLParser
from typing import Any

from defusedxml import ElementTree as SafeET

from tests import factories
from tests.federation.conftest import active_guardian
from trousseau.accounts.models import Account

NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
}


class Forms(HTMLParser):
    """Every form with its action and inputs, in page order (what BeautifulSoup's find would see)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.inputs: list[dict[str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        data = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": data.get("action", ""), "fields": {}})
        elif tag == "input":
            self.inputs.append(data)
            if self.forms and "name" in data:
                self.forms[-1]["fields"][data["name"]] = data.get("value", "")

    def input(self, name: str) -> dict[str, str] | None:
        return next((i for i in self.inputs if i.get("name") == name), None)

    def value(self, name: str) -> str:
        found = self.input(name)
        assert found is not None, f"no input {name}"
        return found.get("value", "")


def first_form(html: str) -> dict[str, Any]:
    forms = Forms(html).forms
    assert forms, "no form on the page"
    return forms[0]


def saml_xml(page: str, field: str = "SAMLResponse"):
    return SafeET.fromstring(base64.b64decode(first_form(page)["fields"][field]))


def guardian(**kw) -> Account:
    return active_guardian(**kw)


def log_in(client, account: Account) -> None:
    client.post("/login", {"identifier": account.identifier, "password": factories.GOOD_PASSWORD})


def login_form(client, execution: str) -> str:
    """From e1s1 (the local-storage page) to e1s2 (the login form) as a browser's script sends it: e1s2's URL."""
    form = first_form(client.get(execution).content.decode())
    sent = client.post(form["action"], form["fields"])
    assert sent.status_code == 302, sent.content
    return str(sent["Location"])


def credentials(account: Account) -> dict[str, str]:
    """What ÉduConnect's login form (e1s2) sends for `account`, without the page's token."""
    return {"j_username": account.identifier, "j_password": factories.GOOD_PASSWORD, "_eventId_proceed": ""}


def login_page(client, sso_url: str) -> tuple[str, str]:
    """From an SP's SSO URL to the login form, as a browser gets there: its URL and its `csrf_token`."""
    execution = login_form(client, client.get(sso_url)["Location"])
    return execution, Forms(client.get(execution).content.decode()).value("csrf_token")
