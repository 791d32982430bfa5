from __future__ import annotations

import pytest

from trousseau.demo.samples.exports import Samples, write_samples


@pytest.fixture(scope="session")
def samples(tmp_path_factory) -> Samples:
    """The generated exports (two collèges in SIECLE, one école in ONDE), written once per test session."""
    return write_samples(tmp_path_factory.mktemp("exports"))
