from __future__ import annotations

from pathlib import Path

import pytest

from tests.ops.serving import migrate, production_env


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A production-like site: OpenID Connect keys and a migrated SQLite database, shared by the ops tests."""
    path = tmp_path_factory.mktemp("site")
    migrate(production_env(path))
    return path
