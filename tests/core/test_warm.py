"""A web worker's one-time work, done before its first connection (core/warm.py)."""

from __future__ import annotations

import logging

import pytest

from trousseau.accounts import authentication
from trousseau.core import warm
from trousseau.federation.oidc import tokens
from trousseau.federation.saml import keys


def test_the_kernel_and_every_app_warm_their_part(monkeypatch: pytest.MonkeyPatch) -> None:
    # As in a new worker: nothing parsed or hashed yet.
    keys._private_key.cache_clear()
    tokens._signer.cache_clear()
    monkeypatch.setattr(authentication, "_DUMMY_HASH", [])

    took = warm.warm_up()

    assert set(took) == {"urls", "catalogues", "accounts", "signin", "saml", "oidc"}
    assert keys._private_key.cache_info().currsize == 1  # the SAML signing key, parsed
    assert tokens._signer.cache_info().currsize == 1  # the OpenID Connect signing key
    assert authentication._DUMMY_HASH  # a refusal's top-up hash, made


def test_a_step_that_fails_is_logged_and_the_others_still_run(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []
    monkeypatch.setattr(warm, "_steps", [])

    def broken() -> None:
        raise OSError("key file gone")

    warm.at_start("broken", broken)
    warm.at_start("fine", lambda: ran.append("fine"))
    with caplog.at_level(logging.ERROR, logger="trousseau.core.warm"):
        took = warm.warm_up()
    assert ran == ["fine"]
    assert "broken" not in took
    assert "fine" in took
    assert any("warm-up: broken failed" in record.getMessage() for record in caplog.records)


def test_an_app_registering_again_replaces_its_step(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []
    monkeypatch.setattr(warm, "_steps", [])
    warm.at_start("app", lambda: ran.append("first"))
    warm.at_start("app", lambda: ran.append("second"))
    warm.warm_up()
    assert ran == ["second"]
