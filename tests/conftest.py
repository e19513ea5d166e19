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
