"""ebpm run --publish: a finished report is copied into the shared portal, which is rebuilt."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from ebpm.errors import ParameterError
from ebpm.report.portal import publish_report

FIXTURES = Path(__file__).parent / "fixtures" / "portal" / "reports"


def test_publish_report_copies_and_rebuilds_the_shared_portal(tmp_path, monkeypatch):
    monkeypatch.setenv("EBPM_CURATED", str(tmp_path / "curated"))
    mine = tmp_path / "mine"
    shutil.copytree(FIXTURES, mine)
    shared = tmp_path / "shared"
    monkeypatch.setenv("EBPM_PORTAL_SHARED", str(shared))
    run = mine / "dx_kpi_dashboard" / "20261126-140000-cd34"
    index = publish_report(run)
    assert index == shared / "index.html"
    assert (shared / "dx_kpi_dashboard" / "20261126-140000-cd34" / "result.json").is_file()
    assert not list(shared.glob("*/.*"))  # no half-copied folder left behind
    html = index.read_text(encoding="utf-8")
    assert "20261126-140000-cd34" in html
    # publishing again replaces the copy (same run id), the original stays
    publish_report(run)
    assert (run / "result.json").is_file()
    assert len(list(shared.glob("*/*/result.json"))) == 1


def test_publish_report_needs_a_shared_folder_and_a_finished_report(tmp_path, monkeypatch):
    monkeypatch.delenv("EBPM_PORTAL_SHARED", raising=False)
    with pytest.raises(ParameterError, match="EBPM_PORTAL_SHARED"):
        publish_report(tmp_path)
    with pytest.raises(ParameterError, match="result.json"):
        publish_report(tmp_path, shared=tmp_path / "shared")
