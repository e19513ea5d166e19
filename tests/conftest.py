"""Suite-wide guards: no test writes into the project's own reports/ or evidence register."""

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _isolated_reports(tmp_path_factory):
    """Point EBPM_REPORTS at a temporary folder for the whole session (tests may override it)."""
    saved = {k: os.environ.get(k) for k in ("EBPM_REPORTS", "EBPM_KEEP_WARM")}
    os.environ["EBPM_REPORTS"] = str(tmp_path_factory.mktemp("reports"))
    os.environ["EBPM_KEEP_WARM"] = "0"  # no spare kernels outlive the suite (warm tests opt in)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


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
