"""Suite-wide guards: no test writes into the project's own reports/ or evidence register."""

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _isolated_reports(tmp_path_factory):
    """Point EBPM_REPORTS at a temporary folder for the whole session (tests may override it)."""
    previous = os.environ.get("EBPM_REPORTS")
    os.environ["EBPM_REPORTS"] = str(tmp_path_factory.mktemp("reports"))
    yield
    if previous is None:
        os.environ.pop("EBPM_REPORTS", None)
    else:
        os.environ["EBPM_REPORTS"] = previous


@pytest.fixture
def project(tmp_path, monkeypatch):
    """The tiny data-layer project (tests/fixtures/data) copied to tmp_path, EBPM_RAW/CATALOG/CURATED
    pointing at it (used by the build, data and CLI tests)."""
    import shutil
    from pathlib import Path

    fixtures = Path(__file__).parent / "fixtures" / "data"
    shutil.copytree(fixtures / "raw", tmp_path / "raw")
    shutil.copytree(fixtures / "catalog", tmp_path / "catalog")
    (tmp_path / "curated").mkdir()
    monkeypatch.setenv("EBPM_RAW", str(tmp_path / "raw"))
    monkeypatch.setenv("EBPM_CATALOG", str(tmp_path / "catalog"))
    monkeypatch.setenv("EBPM_CURATED", str(tmp_path / "curated"))
    return tmp_path
