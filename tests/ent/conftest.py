from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ent.config import Config
from ent.idp import IdpMetadata, MetadataSource
from ent.saml import ServiceProvider
from ent.saml_site import Ent
from tests.ent.client import Client
from tests.ent.fake_idp import FakeIdp

ENT_URL = "http://127.0.0.1:8010"
TS_URL = "http://127.0.0.1:8012"


class FixedMetadata(MetadataSource):
    """The fake IdP's metadata, without HTTP; `current` can be swapped (key rollover)."""

    def __init__(self, metadata: IdpMetadata) -> None:
        super().__init__("http://idp.test/idp/shibboleth", ttl=300)
        self.current = metadata
        self.fetches = 0

    def get(self, *, refresh: bool = False) -> IdpMetadata:
        self.fetches += 1
        assert self.current is not None
        return self.current

    @classmethod
    def empty(cls) -> FixedMetadata:
        return cls(None)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def key_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """RSA-3072 keys take a while to make: each test gets copies of one set."""
    base = tmp_path_factory.mktemp("keys")
    FakeIdp("http://idp.test", base / "idp")
    FakeIdp("http://other.test", base / "other")
    ServiceProvider(Config(ENT_URL, "http://idp.test/idp/shibboleth", base / "ent"), FixedMetadata.empty())
    teleservices = Config(TS_URL, "http://idp.test/idp/shibboleth", base / "teleservices", mode="teleservices")
    ServiceProvider(teleservices, FixedMetadata.empty())
    return base


@pytest.fixture
def keys_dir(key_store: Path, tmp_path: Path) -> Path:
    shutil.copytree(key_store, tmp_path / "keys")
    return tmp_path / "keys"


@pytest.fixture
def idp(keys_dir: Path) -> FakeIdp:
    return FakeIdp("http://idp.test", keys_dir / "idp")


@pytest.fixture
def other_idp(keys_dir: Path) -> FakeIdp:
    """Same entityID and endpoints as `idp`, another key: a forger."""
    return FakeIdp("http://idp.test", keys_dir / "other")


@pytest.fixture
def config(keys_dir: Path) -> Config:
    return Config(public_url=ENT_URL, idp_metadata_url="http://idp.test/idp/shibboleth", var_dir=keys_dir / "ent")


@pytest.fixture
def metadata(idp: FakeIdp) -> FixedMetadata:
    return FixedMetadata(idp.metadata())


@pytest.fixture
def ent(config: Config, metadata: FixedMetadata) -> Ent:
    return Ent(config, ServiceProvider(config, metadata))


@pytest.fixture
def client(ent: Ent) -> Client:
    return Client(ent)
