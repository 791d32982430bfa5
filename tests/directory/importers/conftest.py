from __future__ import annotations

import pytest

from tests import factories
from trousseau.demo.samples.exports import Samples, write_samples


@pytest.fixture(scope="session")
def samples(tmp_path_factory) -> Samples:
    """The generated exports (two collèges in SIECLE, one école in ONDE), written once per test session."""
    return write_samples(tmp_path_factory.mktemp("exports"))


JEAN_MOULIN, SIMONE_VEIL = "0145678B", "0147890D"


@pytest.fixture
def colleges(db):
    """The two collèges of the samples' SIECLE exports."""
    return {
        JEAN_MOULIN: factories.school(uai=JEAN_MOULIN, name="Collège Jean-Moulin"),
        SIMONE_VEIL: factories.school(uai=SIMONE_VEIL, name="Collège Simone-Veil"),
    }
