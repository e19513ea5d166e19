"""Logic models: schema errors name line and field, curated actuals, status, diagram, review-sheet round trip."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from ebpm.ingest.yamlfile import SchemaError
from ebpm.logic.model import (
    Indicator,
    indicator_status,
    logic_model,
    logic_model_paths,
    parse_logic_model,
)

# the data these tests read comes from the full build (conftest with_curated)
pytestmark = pytest.mark.usefixtures("with_curated")

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("dx_plan", "cashless_counters", "chatbot", "subsidy")

GOOD = """\
schema_version: 1
id: sample
title: 見本
nodes:
  - id: A1
    stage: 活動
    statement: 講座を開く
  - id: S1
    stage: short
    statement: 受講者が使えるようになる
    indicator:
      name: 利用率
      unit: "%"
      direction: 上向き
      actuals: {2023: 10, 2024: 20}
      targets: {2026: 40}
edges:
  - {from: A1, to: S1, note: 学べば使う}
"""


def test_good_file_loads_with_japanese_stage_names():
    model = parse_logic_model(GOOD)
    assert [n.stage for n in model.nodes] == ["activity", "short"]
    assert model.edges[0].note == "学べば使う"
    assert model.actuals() == {"S1": {2023: 10.0, 2024: 20.0}}


@pytest.mark.parametrize(
    ("bad", "line", "field", "words"),
    [
        (
            GOOD.replace("direction: 上向き", "direction: 横向き"),
            14,
            "nodes[2].indicator.direction",
            "上向き",
        ),
        (
            GOOD.replace("    stage: short\n", "    stage: 途中\n"),
            9,
            "nodes[2].stage",
            "インプット",
        ),
        (GOOD.replace("{from: A1, to: S1", "{from: A1, to: S9"), 18, "edges[1].to", "S9"),
        (GOOD.replace("    statement: 講座を開く\n", ""), 5, "nodes[1].statement", "必須"),
        (
            GOOD.replace("targets: {2026: 40}", "targets: {二〇二六: 40}"),
            16,
            "nodes[2].indicator.targets.二〇二六",
            "西暦",
        ),
        (GOOD.replace("title: 見本", "title: 見本\ncolour: red"), 4, "colour", "知らない項目"),
    ],
)
def test_bad_files_name_the_line_and_the_field(bad, line, field, words):
    with pytest.raises(SchemaError) as info:
        parse_logic_model(bad, file="logic_models/bad.yml")
    err = info.value
    assert err.line == line and err.field_name == field, str(err)
    text = str(err)
    assert f"{line}行目" in text and f"項目「{field}」" in text and words in text
    assert "logic_models/bad.yml" in text


def test_yaml_syntax_error_names_the_line():
    with pytest.raises(SchemaError) as info:
        parse_logic_model("schema_version: 1\nnodes:\n  - id: A1\n   stage: x\n")
    assert info.value.line == 4 and "YAML" in str(info.value)


def test_all_errors_are_listed_at_once():
    bad = GOOD.replace("direction: 上向き", "direction: 横").replace("stage: 活動", "stage: 何か")
    with pytest.raises(SchemaError) as info:
        parse_logic_model(bad)
    assert len(info.value.problems) == 2


def test_status_rule():
    up = Indicator(name="x", direction="up", targets={2025: 80})
    assert indicator_status(up, {}).status == "no_data"
    assert indicator_status(Indicator(name="x"), {2024: 1.0}).status == "no_target"
    assert indicator_status(up, {2021: 40.0, 2025: 81.0}).status == "achieved"
    # straight line 40 (2021) -> 80 (2025): 2023 expects 60
    assert indicator_status(up, {2021: 40.0, 2023: 61.0}).status == "on_track"
    assert indicator_status(up, {2021: 40.0, 2023: 55.0}).status == "behind"
    down = Indicator(name="待ち時間", direction="down", targets={2025: 10})
    assert indicator_status(down, {2021: 14.0, 2025: 9.5}).status == "achieved"
    assert indicator_status(down, {2021: 14.0, 2023: 13.5}).status == "behind"


def test_shipped_models_validate_and_bind_to_curated_data():
    found = logic_model_paths()
    assert set(SHIPPED) <= set(found)
    for slug in SHIPPED:
        model = logic_model(slug)
        bound = [n.id for n in model.nodes if n.indicator and n.indicator.data]
        assert bound and all(model.actuals().get(b) for b in bound), slug
        assert not [w for w in model.warnings() if "逆向き" in w], slug


def _dashboard_actuals(folder: Path) -> dict[str, dict[int, float]]:
    """The actuals a real run of dx_kpi_dashboard (defaults, full build) recorded in ``folder``."""
    result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    assert result["status"] == "ok", result["error"]
    out = {}
    for key in ("online_share", "core_systems", "trainees", "workshops"):
        out[key] = {int(r["fy"]): float(r["value"]) for r in result["results"][key]["actual"]}
    return out


# the dashboard as rendered once per session with its defaults on the full build (conftest
# default_reports, shared with the page tests in the full_curated group) instead of a run of its own
@pytest.mark.xdist_group("full_curated")
def test_dx_logic_model_shows_the_dashboards_actuals_for_every_fiscal_year(default_reports):
    model = logic_model("dx_plan")
    node_of = {
        n.indicator.data["kpi"]: n.id
        for n in model.nodes
        if n.indicator and n.indicator.data and n.indicator.data.get("kpi")
    }
    assert set(node_of) == {"online_share", "core_systems", "trainees", "workshops"}
    dashboard = _dashboard_actuals(default_reports["dx_kpi_dashboard"])
    actuals = model.actuals()
    for kpi, series in dashboard.items():
        assert sorted(series) == list(range(2021, 2026))
        assert actuals[node_of[kpi]] == pytest.approx(series, abs=1e-9), kpi
    targets = {kpi: model.node(n).indicator.targets for kpi, n in node_of.items()}
    assert targets == {
        "online_share": {2025: 80},
        "core_systems": {2025: 20},
        "trainees": {2025: 1000},
        "workshops": {2025: 130},
    }


def test_review_sheet_round_trip_gives_the_same_graph(tmp_path):
    from ebpm.logic.review_sheet import (
        NODE_COLUMNS,
        ROW_TYPES,
        export_review_sheet,
        import_review_sheet,
    )

    model = logic_model("dx_plan")
    nodes_csv, edges_csv = export_review_sheet(model, tmp_path)
    with nodes_csv.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == NODE_COLUMNS and "2007" in rows[0] and "2060" in rows[0]
    o1 = [r for r in rows if r["アクティビティ・アウトプット・アウトカムの番号"] == "O1"]
    assert [r["目標年度／目標値／実績値／達成率"] for r in o1] == list(ROW_TYPES)
    assert o1[0]["2025"] == "2025" and o1[1]["2025"] == "80"
    back = import_review_sheet(nodes_csv, edges_csv)
    assert back.graph() == model.graph()
    # actuals travel as the file's values
    assert back.actuals()["O3"] == pytest.approx(model.actuals()["O3"])


def test_import_keeps_non_numeric_cells_and_strips_term_prefixes(tmp_path):
    from ebpm.logic.review_sheet import export_review_sheet, import_review_sheet

    model = parse_logic_model(GOOD)
    nodes_csv, edges_csv = export_review_sheet(model, tmp_path)
    text = nodes_csv.read_text(encoding="utf-8-sig").replace("1.短期", "短期")
    rows = list(csv.DictReader(text.splitlines()))
    for r in rows:
        if r["目標年度／目標値／実績値／達成率"] == "3.実績値":
            r["2025"] = "調査中"
            r["2022"] = "-"
    with nodes_csv.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    back = import_review_sheet(nodes_csv, edges_csv)
    ind = back.node("S1").indicator
    assert back.node("S1").stage == "short"
    assert ind.actuals == {2023: 10, 2024: 20, 2025: "調査中"}  # text kept, "-" is empty


def test_diagram_is_offline_svg_left_to_right(tmp_path):
    model = logic_model("dx_plan")
    svg = model.chart().svg
    assert svg.startswith("<svg") and "http://www.w3.org/2000/svg" in svg
    assert "https://" not in svg and "<script" not in svg
    heads = [
        "インプット",
        "活動",
        "アウトプット",
        "短期アウトカム",
        "中期アウトカム",
        "長期アウトカム",
        "インパクト",
    ]
    positions = [svg.index(f">{h}</text>") for h in heads]
    assert positions == sorted(positions)
    assert 'data-status="achieved"' in svg and 'data-status="behind"' in svg
    assert "模擬データ" in svg
    page = model.chart().save(tmp_path / "dx.html")
    assert "<svg" in page.read_text(encoding="utf-8")


def test_cli_check_render_export_import(tmp_path, monkeypatch):
    from ebpm.cli import app
    from typer.testing import CliRunner

    monkeypatch.setenv("EBPM_LOGIC_MODELS", str(tmp_path / "lm"))
    (tmp_path / "lm").mkdir()
    (tmp_path / "lm" / "bad.yml").write_text(
        GOOD.replace("direction: 上向き", "direction: 横"), encoding="utf-8"
    )
    runner = CliRunner()
    checked = runner.invoke(app, ["logic", "check", "bad"])
    assert checked.exit_code == 1 and "14行目" in checked.output
    monkeypatch.delenv("EBPM_LOGIC_MODELS")
    out = runner.invoke(app, ["logic", "render", "chatbot", "--out", str(tmp_path / "c.svg")])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "c.svg").read_text(encoding="utf-8").startswith("<svg")
    assert runner.invoke(app, ["logic", "export", "chatbot", "--out", str(tmp_path)]).exit_code == 0
    monkeypatch.setenv("EBPM_LOGIC_MODELS", str(tmp_path / "lm"))
    imported = runner.invoke(
        app,
        [
            "logic",
            "import",
            str(tmp_path / "chatbot_効果発現経路_目標・実績.csv"),
            str(tmp_path / "chatbot_効果発現経路_目標のつながり.csv"),
            "--slug",
            "chatbot_rs",
        ],
    )
    assert imported.exit_code == 0, imported.output
    again = logic_model("chatbot_rs")
    original = logic_model(str(ROOT / "logic_models" / "chatbot.yml"))
    assert again.graph() == original.graph()


def test_quality_warnings_output_confusion_and_term():
    text = GOOD.replace("title: 見本", "title: 見本\nproject: {start_year: 2023}").replace(
        "name: 利用率", "name: 講座の開催回数"
    )
    warnings = parse_logic_model(text).warnings()
    assert any("アウトプット" in w for w in warnings)  # an activity count as an outcome indicator
    assert any("短期アウトカムですが、目標年度が開始から3年後" in w for w in warnings)
    backwards = GOOD.replace("{from: A1, to: S1", "{from: S1, to: A1")
    assert any("逆向き" in w for w in parse_logic_model(backwards).warnings())


def test_a_missing_table_means_no_data_not_a_failure():
    text = GOOD.replace(
        "      actuals: {2023: 10, 2024: 20}\n",
        "      data: {table: no_such_table, column: x, agg: mean, fy_column: fiscal_year}\n",
    )
    model = parse_logic_model(text)
    assert model.status()["S1"].status == "no_data"
    assert any("S1 の実績を読めません" in w and "no_such_table" in w for w in model.warnings())
    assert "読めません" in model.chart().svg
