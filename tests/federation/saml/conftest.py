from __future__ import annotations

from pathlib import Path

import pytest

from tests.federation.saml.sp import PySamlSP
from trousseau.federation.saml import registry
from trousseau.federation.saml.models import ServiceProvider
from trousseau.federation.saml.services import sp_register


@pytest.fixture(autouse=True)
def _idp_at_testserver(settings):
    """The IdP's public URL is the test client's host, so Destination checks see the same URLs."""
    settings.PUBLIC_URL = "http://testserver"


@pytest.fixture(autouse=True)
def _sps_read_again():
    """No SP kept from another test (whose rows were rolled back): each test reads its own (registry.py)."""
    registry.forget_all()


@pytest.fixture(scope="session")
def sp_keys(tmp_path_factory) -> Path:
    """One SP key pair for the whole run (RSA-3072 generation is slow)."""
    directory: Path = tmp_path_factory.mktemp("sp")
    PySamlSP(directory)  # generates the pair
    return directory


@pytest.fixture
def pysp(db, sp_keys) -> PySamlSP:
    return PySamlSP(sp_keys)


@pytest.fixture
def signing_sp(db, sp_keys) -> PySamlSP:
    """An SP whose metadata says AuthnRequestsSigned, and which signs its requests."""
    sp = PySamlSP(sp_keys, sign_requests=True)
    sp_register(sp.metadata(), encrypt=False)
    return sp


@pytest.fixture
def registered(pysp) -> ServiceProvider:
    return sp_register(
        pysp.metadata(),
        name="ENT de test",
        release_children=True,
        release_join=True,
        encrypt=False,
        allow_idp_initiated=True,
    )
