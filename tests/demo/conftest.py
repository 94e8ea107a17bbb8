from __future__ import annotations

from pathlib import Path

import pytest

from ordito.demo import GenerateResult, generate


@pytest.fixture(scope="session")
def company(tmp_path_factory: pytest.TempPathFactory) -> GenerateResult:
    """A 500-customer company (seed 7), generated once for the whole session."""
    return generate(tmp_path_factory.mktemp("demo") / "company", 500, 7)


@pytest.fixture(scope="session")
def root(company: GenerateResult) -> Path:
    return company.out_dir
