"""An SP's row is read once per process while it is fresh (registry.py); a change made here applies at once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import GOOD_PASSWORD
from tests.federation.saml.helpers import Forms, first_form, guardian, log_in, login_form
from trousseau.federation.saml import registry
from trousseau.federation.saml.models import ServiceProvider

pytestmark = pytest.mark.django_db


def _sp_reads(captured: CaptureQueriesContext) -> int:
    return sum('FROM "saml_serviceprovider"' in q["sql"] for q in captured.captured_queries)


def _answered(page) -> bool:
    return page.status_code == 200 and "SAMLResponse" in first_form(page.content.decode())["fields"]


def test_a_second_login_at_the_same_sp_reads_no_sp_row(client, pysp, registered):
    log_in(client, guardian())
    with CaptureQueriesContext(connection) as first:
        assert _answered(client.get(pysp.redirect_request()[1]))
    with CaptureQueriesContext(connection) as second:
        assert _answered(client.get(pysp.redirect_request()[1]))
    assert _sp_reads(first) == 1
    assert _sp_reads(second) == 0


def test_an_sp_disabled_in_this_process_is_refused_at_once(client, pysp, registered):
    log_in(client, guardian())
    assert _answered(client.get(pysp.redirect_request()[1]))
    registered.enabled = False
    registered.save()
    refused = client.get(pysp.redirect_request()[1])
    assert refused.status_code == 400
    assert "SAMLResponse" not in refused.content.decode()


def test_a_change_made_by_another_process_applies_within_the_cache_lifetime(client, pysp, registered, monkeypatch):
    log_in(client, guardian())
    now = [1000.0]
    monkeypatch.setattr(registry, "_clock", lambda: now[0])
    assert _answered(client.get(pysp.redirect_request()[1]))
    # Another process disables it: no signal reaches this one.
    ServiceProvider.objects.filter(pk=registered.pk).update(enabled=False)
    now[0] += registry.CACHE_SECONDS - 1
    assert _answered(client.get(pysp.redirect_request()[1]))
    now[0] += 1
    assert client.get(pysp.redirect_request()[1]).status_code == 400


def test_unknown_and_disabled_sps_are_not_kept(registered):
    assert registry.enabled("https://unknown.example/sp") is None
    assert registry.enabled("") is None
    ServiceProvider.objects.create(entity_id="https://off.example/sp", metadata_xml="<x/>", enabled=False)
    assert registry.enabled("https://off.example/sp") is None
    assert registry._by_entity_id == {}  # what the process keeps
    # By primary key a disabled SP is found (a pending request's answer), unless only enabled ones are asked.
    off = ServiceProvider.objects.get(entity_id="https://off.example/sp")
    assert registry.by_pk(off.pk) == off
    assert registry.by_pk(off.pk, only_enabled=True) is None
    assert registry.by_pk(off.pk + 1000) is None


def test_a_whole_login_reads_its_sp_row_once(client, pysp, registered):
    """The request's check reads it; the mire (which remembers the service) and the answer find it kept."""
    account = guardian()
    with CaptureQueriesContext(connection) as captured:
        first = client.get(pysp.redirect_request()[1])
        mire_url = login_form(client, first["Location"])
        mire = client.get(mire_url)
        token = Forms(mire.content.decode()).value("csrf_token")
        fields = {"j_username": account.identifier, "j_password": GOOD_PASSWORD, "_eventId_proceed": ""}
        sent = client.post(mire_url, {"csrf_token": token, **fields})
        assert sent.status_code == 302
        storage = first_form(client.get(sent["Location"]).content.decode())
        assert _answered(client.post(storage["action"], storage["fields"]))
    assert _sp_reads(captured) == 1


def test_each_service_providers_pysaml2_server_reuses_the_idp_key_parsed_once(sp_keys, tmp_path, monkeypatch):
    """pysaml2 loads the IdP's key twice per Server; parsing a 3072-bit RSA key checks its primes (0.1 s)."""
    import saml2.cryptography.asymmetric
    from cryptography.hazmat.primitives import serialization

    from tests.federation.saml.sp import PySamlSP
    from trousseau.federation.saml import idp, keys
    from trousseau.federation.saml.services import sp_register

    monkeypatch.setattr(idp, "_servers", {})
    keys._private_key.cache_clear()
    parsed: list[bytes] = []
    load = serialization.load_pem_private_key

    def counted(data: bytes, password: bytes | None = None) -> object:
        parsed.append(data)
        return load(data, password=password)

    monkeypatch.setattr(keys, "load_pem_private_key", counted)
    # pysaml2's own loader, which it calls for each Server without Trousseau's cache
    monkeypatch.setattr(saml2.cryptography.asymmetric, "load_pem_private_key", counted)
    providers = []
    for name in ("ent", "teleservices"):
        sp = PySamlSP(sp_keys, entity_id=f"https://{name}.example.fr/saml/metadata.xml")
        providers.append(sp_register(sp.metadata(), name=name))
    servers = [idp.server_for(provider) for provider in providers]
    assert servers[0] is not servers[1]  # each knows only its own SP's metadata (CVE-2021-21239)
    signing_key = keys.signing().key_path
    assert signing_key is not None
    assert parsed.count(signing_key.read_bytes()) == 1  # once for both (the test SPs' own key apart)
    assert servers[1].sec.sec_backend.key is keys.private_key(signing_key)
