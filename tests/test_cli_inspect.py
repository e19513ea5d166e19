"""`ebpm inspect FILE [--format json]`: Japanese description of how a raw file is read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ebpm.cli import app
from typer.testing import CliRunner

FIX = Path(__file__).parent / "fixtures" / "ingest"
runner = CliRunner()


def inspect(*args: str):
    return runner.invoke(app, ["inspect", *args])


def test_text_output_is_japanese():
    result = inspect(str(FIX / "okunaihinanjyo.csv"))
    assert result.exit_code == 0, result.output
    out = result.output
    for word in (
        "CP932（Shift_JIS）",
        "文字コード",
        "区切り文字",
        "見出し行",
        "正規化したこと",
        "問題",
        "先頭の5行",
    ):
        assert word in out
    assert "「№」→「No」" in out


def test_json_output():
    result = inspect(str(FIX / "census_2020_p2.csv"), "--format", "json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["encoding"] == "utf-8" and info["delimiter"] == "," and info["header_row"] == 1
    assert info["rows"] == 34
    cols = {c["name"]: c for c in info["columns"]}
    assert cols["code"]["type"] == "string"
    assert cols["wB"]["type"] == "integer" and cols["wB"]["symbols"] == {"-": 7}
    assert "wB_note" in cols
    assert len(info["head"]) == 5 and info["head"][1]["code"] == "03201"
    assert any("wT" in p for p in info["problems"])


def test_json_units_and_thousands():
    info = json.loads(
        inspect(str(FIX / "FEH_00200524_200927163843.csv"), "--format", "json").output
    )
    assert info["encoding_ja"] == "CP932（Shift_JIS）"
    cols = {c["name"]: c for c in info["columns"]}
    assert cols["2015年"]["unit"] == "千人" and cols["2015年"]["type"] == "integer"
    assert info["head"][0]["2015年"] == 127_095


def test_excel_shows_sheets_and_header_rows():
    result = inspect(str(FIX / "jinkou2708.xls"))
    assert result.exit_code == 0, result.output
    assert "毎月人口ＨＰ" in result.output and "8〜9行目" in result.output
    info = json.loads(inspect(str(FIX / "jinkou2708.xls"), "--format", "json").output)
    assert (
        info["kind"] == "excel"
        and info["sheets"] == ["毎月人口ＨＰ"]
        and info["header_rows"] == [8, 9]
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ('code,name\n03201,"盛岡'.encode(), "引用符"),  # cut mid-quote
        ("code,name,total\n03201,盛岡市,1\n03202,宮古".encode("cp932"), "途中で切れている"),
        (bytes(range(256)) * 8, "バイナリ"),
        (b"", "空です"),
    ],
)
def test_unreadable_files_exit_nonzero_in_japanese(tmp_path, data, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    result = inspect(str(path))
    assert result.exit_code == 1
    assert "エラー" in result.output and message in result.output
    assert "Traceback" not in result.output


def test_wrong_declared_encoding(tmp_path):
    path = tmp_path / "sjis.csv"
    path.write_bytes("code,name\n03201,盛岡市\n".encode("cp932"))
    result = inspect(str(path), "--encoding", "utf-8")
    assert result.exit_code == 1 and "2行目" in result.output and "UTF-8" in result.output


def test_truncated_excel(tmp_path):
    path = tmp_path / "cut.xls"
    path.write_bytes((FIX / "jinkou2708.xls").read_bytes()[:10000])
    result = inspect(str(path))
    assert result.exit_code == 1 and "途中で切れている" in result.output


def test_bad_format_option():
    result = inspect(str(FIX / "census_2020_p1.csv"), "--format", "xml")
    assert result.exit_code == 2 and "text か json" in result.output


def test_not_a_table_file(tmp_path):
    path = tmp_path / "shelters.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    result = inspect(str(path))
    assert result.exit_code == 1 and "CSV と Excel" in result.output


# Fixture cheat-sheet of ../shared/data/public/PROVENANCE.md: every file is described or refused clearly
CHEAT_SHEET = [
    "localgovjp/2019/localgovjp-sjis.csv",
    "cp932_and_estat_download_csv/FEH_00200524_200927163843.csv",
    "cp932_and_estat_download_csv/japanpost_KEN_ALL_13TOKYO_head300.CSV",
    "kobe_city_opendata/okunaihinanjyo.csv",
    "localgovjp/localgovjp-utf8.csv",
    "abr_address_master/lgcode.csv",
    "abr_address_master/030007/032018/town.csv",
    "yaizu_standard_opendata/222127_tourism_sights.csv",
    "kobe_city_opendata/institution01_20141128.csv",
    "cp932_and_estat_download_csv/estat_dashboard_Sample_20201008140116.csv",
    "soumu_juki_population/2204ssnen.xlsx",
    "soumu_juki_population/2203ssjin.xlsx",
    "soumu_juki_population/1903ssjin.xls",
    "kobe_city_opendata/jinkou2708.xls",
    "kobe_city_opendata/zensi2706.xls",
    "kobe_city_opendata/H7-27.csv",
    "yaizu_standard_opendata/222127_aed.csv",
    "iwate_estat_municipal/census_2020_p2.csv",
    "iwate_estat_municipal/census_2010_p1.csv",
    "iwate_estat_municipal/population_2013_2026.csv",
    "iwate_estat_municipal/ssds_household.csv",
    "localgovjp/prefjp-utf8.csv",
    "yaizu_standard_opendata/222127_preschool.csv",
    "estat_api_responses/getStatsData_0003433219_census2020_prelim_pop_by_sex_all_municipalities.json",
    "estat_api_responses/estat_api_dlt_helper_SampleResponse1752633595900_getStatsData_0000020202_limit10.json",
]


@pytest.mark.slow
@pytest.mark.parametrize("rel", CHEAT_SHEET)
def test_cheat_sheet_files(rel):
    from ebpm.config import paths

    path = paths().shared / "data" / "public" / rel
    if not path.exists():
        pytest.skip(f"{rel} がありません（../shared なし）")
    result = inspect(str(path), "--format", "json")
    if path.suffix == ".json":  # e-Stat API responses are read by ebpm.estat.client, not by inspect
        assert result.exit_code == 1 and "CSV と Excel" in result.output
        return
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["rows"] > 0 and info["columns"]
    assert all(isinstance(n, str) for n in info["notes"] + info["problems"])


def test_inspect_flags_lost_characters_and_drafts_the_catalog():
    import yaml
    from ebpm.cli import app
    from typer.testing import CliRunner

    fixture = Path(__file__).parent / "fixtures/data/raw/tiny_city/loss/lost_character.csv"
    shown = CliRunner().invoke(app, ["inspect", str(fixture)])
    assert shown.exit_code == 0, shown.output
    assert "神戸?園小学校" in shown.output and "失われた文字" in shown.output
    assert "reader: csv, options: {ingest: true" in shown.output
    draft = CliRunner().invoke(app, ["inspect", str(fixture), "--catalog"])
    doc = yaml.safe_load(draft.output)
    assert doc["sources"][0]["options"]["ingest"] is True
    assert [f["name"] for f in doc["schema"]["fields"]] == [
        "area_code",
        "year",
        "population",
        "note",
    ]
    assert "# 問題: 列「note」" in draft.output


# --- inspect --catalog: a messy file drafted in one pass (issue 16 point 3) ---------------------

#: a made-up CP932 file shaped like a city's Excel export: a title row stating the 時点, an empty
#: row, units in the headers, thousands separators, full-width digits and a blank row in the data
TOWN_POP = (
    "盛岡市 町丁別人口（令和2年10月1日現在）,,\n"
    ",,\n"
    "町丁名,人口（人）,世帯数（世帯）\n"
    '大通一丁目,"1,234",700\n'
    ",,\n"
    "大通二丁目,２３４,120\n"
    "菜園一丁目,0,0\n"
)


def test_draft_detects_title_rows_blank_rows_units_and_period(tmp_path):
    import yaml

    file = tmp_path / "town_pop.csv"
    file.write_bytes(TOWN_POP.encode("cp932"))
    info = json.loads(inspect(str(file), "--format", "json").output)
    assert info["title_rows"] == 2 and info["blank_rows"] == 1
    assert info["period"] == {"text": "令和2年10月1日現在", "date": "2020-10-01"}
    assert info["units"] == {"人口(人)": "人", "世帯数(世帯)": "世帯"}
    shown = inspect(str(file)).output
    assert "タイトル行" in shown and "令和2年10月1日現在（2020-10-01）" in shown and "空行" in shown
    draft = inspect(str(file), "--catalog").output
    doc = yaml.safe_load(draft)
    assert doc["sources"][0]["options"] == {"ingest": True, "encoding": "cp932", "header_row": 3}
    fields = {f["name"]: f for f in doc["schema"]["fields"]}
    assert fields["人口(人)"]["unit"] == "人" and fields["人口(人)"]["title"] == "人口"
    assert fields["世帯数(世帯)"]["unit"] == "世帯"
    assert fields["period"]["type"] == "date" and "2020-10-01" in doc["transform"]
    assert doc["freshness"]["vintage"] == "2020-10-01"
    assert doc["title"] == "TODO 盛岡市 町丁別人口"
    assert "# 検出: 見出しの前のタイトル行: 1〜2行目" in draft
    assert "# 検出: 値が一つもない行: 1行" in draft


def test_draft_of_a_real_excel_file_reads_its_title_rows_and_date():
    """神戸市 jinkou2708.xls (CC BY 2.1 JP, see fixtures/ingest/PROVENANCE.md): 7 title rows with
    「平成27年８月1日現在」 above a two-row header."""
    import yaml

    draft = inspect(str(FIX / "jinkou2708.xls"), "--catalog").output
    doc = yaml.safe_load(draft)
    assert doc["sources"][0]["options"] == {"sheet": 0, "header_rows": [8, 9]}
    assert doc["freshness"]["vintage"] == "2015-08-01"
    assert "「平成27年８月1日現在」→ 2015-08-01" in draft
    assert "1〜7行目" in draft and "値が一つもない行: 3行" in draft


def _fill(text: str) -> str:
    """What the steward types over the TODOs."""
    return (
        text.replace("TODO YYYY-MM-DD", "2026-12-31")
        .replace("update: TODO", "update: 5年ごと")
        .replace("TODO ", "")
        .replace("<出典フォルダ>", "city")
    )


def test_steward_adds_a_messy_file_in_one_pass(project):
    """source add → inspect --catalog → build, with what ingest normalised in manifest and dictionary."""
    import yaml
    from ebpm.data.builder import build

    folder = project / "raw" / "city"
    folder.mkdir()
    file = folder / "town_pop.csv"
    file.write_bytes(TOWN_POP.encode("cp932"))
    added = runner.invoke(app, ["source", "add", str(file)])
    assert added.exit_code == 0, added.output
    source = folder / "SOURCE.yml"
    text = source.read_text(encoding="utf-8")
    for key, value in {
        "title_ja": "町丁別人口（テスト）",
        "publisher": "ebpm テスト",
        "licence": "CC0 1.0",
        "attribution": "テスト用データ（ebpm）",
    }.items():
        text = text.replace(f"{key}: ''", f"{key}: {value}")
    source.write_text(text.replace("description_ja: ''", "description_ja: 町丁別人口"), "utf-8")
    draft = runner.invoke(app, ["inspect", str(file), "--catalog"])
    assert draft.exit_code == 0, draft.output
    (project / "catalog" / "town_pop.yml").write_text(_fill(draft.output), encoding="utf-8")
    checked = runner.invoke(app, ["catalog", "check"])
    assert checked.exit_code == 0, checked.output
    manifest = build()
    table = manifest["tables"]["town_pop"]
    assert table["rows"] == 3 and table["vintage"] == "2020-10-01"
    normalised = "\n".join(table["normalised"])
    assert "タイトル行など（2行）を読み飛ばしました" in normalised
    assert "値が一つもない行を除きました（1行）" in normalised
    dictionary = (project / "curated" / "dictionary.html").read_text(encoding="utf-8")
    assert "読み込み時の正規化" in dictionary and "タイトル行など（2行）" in dictionary
    import duckdb

    con = duckdb.connect(str(project / "curated" / "ebpm.duckdb"), read_only=True)
    rows = con.execute('SELECT "人口(人)", period FROM town_pop ORDER BY 1').fetchall()
    con.close()
    assert [r[0] for r in rows] == [0, 234, 1234] and str(rows[0][1]) == "2020-10-01"
    assert yaml.safe_load(source.read_text(encoding="utf-8"))["files"][0]["bytes"] == len(
        TOWN_POP.encode("cp932")
    )


def test_steward_adds_a_real_excel_file_in_one_pass(project):
    """神戸市 jinkou2708.xls (title rows with 平成27年８月1日現在, a two-row header, blank rows),
    drafted by inspect --catalog and built without editing anything but the TODOs."""
    import shutil

    from ebpm.data.builder import build

    folder = project / "raw" / "city"
    folder.mkdir()
    file = folder / "jinkou2708.xls"
    shutil.copyfile(FIX / "jinkou2708.xls", file)
    assert runner.invoke(app, ["source", "add", str(file)]).exit_code == 0
    source = folder / "SOURCE.yml"
    text = source.read_text(encoding="utf-8")
    for key, value in {
        "title_ja": "神戸市の推計人口",
        "publisher": "神戸市",
        "licence": "CC BY 2.1 JP",
        "attribution": "神戸市オープンデータ",
    }.items():
        text = text.replace(f"{key}: ''", f"{key}: {value}")
    source.write_text(text.replace("description_ja: ''", "description_ja: 推計人口"), "utf-8")
    draft = runner.invoke(app, ["inspect", str(file), "--catalog"]).output
    (project / "catalog" / "jinkou2708.yml").write_text(_fill(draft), encoding="utf-8")
    manifest = build()
    table = manifest["tables"]["jinkou2708"]
    assert table["rows"] == 57 and table["vintage"] == "2015-08-01"
    assert any("タイトル行（1〜7行目）を読み飛ばしました" in n for n in table["normalised"])
    assert any("値が一つもない行を除きました（3行）" in n for n in table["normalised"])
