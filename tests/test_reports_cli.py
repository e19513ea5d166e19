"""`ebpm templates` lists every template with Japanese labels; `ebpm run` refuses bad input before any kernel."""

from __future__ import annotations

from pathlib import Path

import pytest
from ebpm.cli import app
from typer.testing import CliRunner

FIXTURES = Path(__file__).parent / "fixtures" / "reports"


def test_templates_lists_the_real_templates_with_labels():
    result = CliRunner().invoke(app, ["templates"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for text in ("dx_kpi_dashboard", "did_study", "開始年度", "比較群", "除外する窓口"):
        assert text in result.output


def test_templates_marks_secret_parameters(monkeypatch):
    monkeypatch.setenv("EBPM_TEMPLATES", str(FIXTURES))
    result = CliRunner().invoke(app, ["templates"], env={"COLUMNS": "200"})
    assert "APIキー（秘密）" in result.output and "（秘密）" in result.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "no_such_template"], "分析テンプレート「no_such_template」はありません"),
        (["run", "dx_kpi_dashboard", "-p", "start_fy=2019"], "2021〜2025の範囲"),
        (["run", "dx_kpi_dashboard", "-p", "kpis=online_share,gdp"], "online_share、core_systems"),
        (["run", "dx_kpi_dashboard", "-p", "start_fy"], "名前=値"),
        (["run", "dx_kpi_dashboard", "--over", "start_fy=all"], "選択肢のあるパラメータ=all"),
    ],
)
def test_run_refuses_bad_input_in_japanese(args, fragment):
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    assert fragment in str(result.exception)
