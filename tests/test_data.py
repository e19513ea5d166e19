"""ebpm.data.access: read-only access, bound filters, refused writes, catalog, provenance; real-data spot values."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest
from ebpm.data import access as data
from ebpm.errors import DataAccessError

# the module fixture (the real-data build) is made once, on one worker, not once per xdist worker
pytestmark = pytest.mark.xdist_group("data_real")

build_mod = importlib.import_module("ebpm.data.builder")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def built(tiny_built):
    data.reset_accessed()
    return tiny_built


def test_not_built_says_run_build(project):
    with pytest.raises(DataAccessError, match="まず `ebpm build` を実行してください"):
        data.connect()
    with pytest.raises(DataAccessError, match="ebpm build"):
        data.load("population")


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, 4),
        ({"area_code": "03201"}, 2),
        ({"area_code": "03201", "year": 2020}, 1),
        ({"area_code": ["03201", "03216"]}, 3),
        ({"area_code": ("03000",)}, 1),
        ({"area_code": []}, 0),
        ({"population": None}, 1),
        ({"area_code": "03201'; DROP TABLE population; --"}, 0),  # values are bound, never pasted
    ],
)
def test_load_filters(built, filters, expected):
    assert len(data.load("population", **filters)) == expected


def test_load_returns_typed_frame(built):
    frame = data.load("population", area_code="03201", year=2020)
    assert frame.loc[0, "population"] == 289731
    assert frame.loc[0, "area_code"] == "03201"
    assert list(frame.columns) == ["area_code", "year", "population", "note"]


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (
            lambda: data.load("nope"),
            "テーブル「nope」はありません。あるテーブル: area, population, visitors",
        ),
        (
            lambda: data.load("population", colour="red"),
            "列「colour」はテーブル「population」にありません",
        ),
        (lambda: data.sql("DELETE FROM population"), "読み取り（SELECT）以外"),
        (lambda: data.sql("CREATE TABLE x AS SELECT 1"), "読み取り（SELECT）以外"),
        (lambda: data.sql("ATTACH '/tmp/x.duckdb' AS x"), "読み取り（SELECT）以外"),
        (lambda: data.sql("SELECT 1; SELECT 2"), "1文だけ"),
        (lambda: data.sql("SELECT * FROM read_csv('/etc/hostname')"), "SQL を実行できません"),
        (lambda: data.sql("SELEC 1"), "SQL を"),
    ],
)
def test_refusals_are_japanese(built, call, words):
    with pytest.raises(DataAccessError) as info:
        call()
    assert words in str(info.value)


def test_sql_binds_parameters(built):
    by_name = data.sql(
        "SELECT population FROM population WHERE area_code = $c AND year = $y",
        {"c": "03201", "y": 2015},
    )
    by_position = data.sql(
        "SELECT population FROM population WHERE area_code = ? AND year = ?", ["03201", 2015]
    )
    assert by_name.iloc[0, 0] == by_position.iloc[0, 0] == 297631


def test_connect_is_read_only(built):
    con = data.connect()
    with pytest.raises(Exception, match="read-only|read_only|READ_ONLY"):
        con.execute("INSERT INTO population VALUES ('03201', 2030, 1, NULL)")
    con.close()


def test_catalog_and_table_info(built):
    cat = data.catalog()
    assert list(cat["name"]) == ["area", "population", "visitors"]
    row = cat.set_index("name").loc["population"]
    assert row["title"] == "人口" and row["rows"] == 4 and not row["synthetic"]
    assert row["licence"] == "CC0 1.0" and row["sources"] == ["tiny_city/population.csv"]
    assert not row["census"]  # the fixture declares no 全数 flag
    info = data.table_info("population")
    assert info["build_id"] == data.build_info()["build_id"]
    assert info["disclosure"] == {"threshold": 10, "count_columns": ["population"]}
    assert info["vintage"] == "2020-10-01"
    assert info["sources"][0]["attribution"] == "テスト用データ（ebpm）"
    assert [c["name"] for c in info["columns"]] == ["area_code", "year", "population", "note"]
    assert info["columns"][0]["foreign_key"] == "area.code5"
    assert data.manifest()["build_id"] == info["build_id"]


def test_accessed_tables(built):
    data.load("area")
    data.sql("SELECT p.* FROM population p JOIN area a ON a.code5 = p.area_code")
    data.load("area")
    assert data.accessed_tables() == ["area", "population"]
    data.reset_accessed()
    assert data.accessed_tables() == []


def test_accessed_tables_with_bound_parameters(built):
    """Provenance must not be lost when a query binds values (get_table_names refuses them)."""
    data.sql("SELECT * FROM population WHERE year = $year AND note <> '$x?'", {"year": 2020})
    assert data.accessed_tables() == ["population"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT 1 WHERE a = $x", "SELECT 1 WHERE a = NULL"),
        ("SELECT 1 WHERE a = ? AND b = $1", "SELECT 1 WHERE a = NULL AND b = NULL"),
        ("SELECT '$x', \"col?\" FROM t", "SELECT '$x', \"col?\" FROM t"),
        ("SELECT 'it''s $y' WHERE c = $z", "SELECT 'it''s $y' WHERE c = NULL"),
    ],
)
def test_without_parameters(query, expected):
    assert data._without_parameters(query) == expected


# --- real data: spot values (published figures) -----------------------------------------------

REAL_TABLES = [
    "municipality",
    "municipality_change",
    "census_population",
    "census_industry_2020",
    "resident_population",
    "census_2020_prelim",
    "town",
    "shelter",
    "smallarea_2015",
]


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """Build the real-data tables (not population_by_age: Excel is slower) into a temporary folder."""
    tmp = tmp_path_factory.mktemp("real")
    (tmp / "catalog").mkdir()
    for name in REAL_TABLES:
        shutil.copy(ROOT / "data" / "catalog" / f"{name}.yml", tmp / "catalog")
    mp = pytest.MonkeyPatch()
    mp.setenv("EBPM_RAW", str(ROOT / "data" / "raw"))
    mp.setenv("EBPM_CATALOG", str(tmp / "catalog"))
    mp.setenv("EBPM_CURATED", str(tmp / "curated"))
    manifest = build_mod.build()
    yield manifest
    mp.undo()


@pytest.mark.parametrize(
    ("query", "params", "expected"),
    [
        # 国勢調査2020（確定）盛岡市 総人口 289,731 (../shared/data/public/PROVENANCE.md §1)
        (
            "SELECT total FROM census_population WHERE area_code = $a AND year = $y",
            {"a": "03201", "y": 2020},
            289731,
        ),
        # 国勢調査2015 盛岡市 297,631 (PROVENANCE.md §1; equals ΣJINKO of the 2015 small areas)
        (
            "SELECT total FROM census_population WHERE area_code = $a AND year = $y",
            {"a": "03201", "y": 2015},
            297631,
        ),
        # 住基 2022-01-01 盛岡市 285,270 (PROVENANCE.md §1 and §9 agree)
        (
            "SELECT population FROM resident_population WHERE area_code = $a AND year = $y",
            {"a": "03201", "y": 2022},
            285270,
        ),
        # 2013 滝沢: published under 03305 (滝沢村), stored under 03216 with the original kept
        (
            "SELECT area_code_original FROM resident_population WHERE area_code = $a AND year = $y",
            {"a": "03216", "y": 2013},
            "03305",
        ),
        # e-Stat 速報 2020 盛岡市 289,893 (PROVENANCE.md §1 note)
        (
            "SELECT population FROM census_2020_prelim WHERE area_code = $a AND sex = 'total'",
            {"a": "03201"},
            289893,
        ),
        # 双葉町: value "-" → NULL with the symbol kept as the reason
        (
            "SELECT count(*) FROM census_2020_prelim WHERE area_code = $a AND population IS NULL AND note = '-'",
            {"a": "07546"},
            3,
        ),
        ("SELECT code6 FROM municipality WHERE code5 = $a", {"a": "03201"}, "032018"),
        ("SELECT successor_code5 FROM municipality WHERE code5 = $a", {"a": "03422"}, "03209"),
        ("SELECT count(*) FROM shelter WHERE kind = $k", {"k": "緊急避難場所"}, 245),
        ("SELECT count(*) FROM town", None, 1661),
        # Σ small-area population = 2015 census total of Morioka (geo/PROVENANCE.md)
        ("SELECT sum(population) FROM smallarea_2015 WHERE area_code = $a", {"a": "03201"}, 297631),
        # 国勢調査2020 p2: 葛巻町 (03302) 漁業 "-" → NULL with the symbol as the reason
        (
            "SELECT workers_note FROM census_industry_2020 WHERE area_code = $a AND industry_code = 'B' AND workers IS NULL",
            {"a": "03302"},
            "-",
        ),
    ],
)
def test_real_spot_values(real, query, params, expected):
    assert data.sql(query, params).iloc[0, 0] == expected


def test_real_manifest_credits_sources(real):
    census = real["tables"]["census_population"]
    assert census["vintage"] == "2020-10-01"
    assert any("国勢調査" in s["attribution"] for s in census["sources"])
    resident = real["tables"]["resident_population"]["sources"][0]
    assert "住民基本台帳" in resident["attribution"]  # per-file attribution in SOURCE.yml
    assert all(not t["synthetic"] for t in real["tables"].values())


def test_column_titles(built):
    titles = data.column_titles(["area_code", "population", "x"], "SELECT * FROM population")
    assert titles == {"area_code": "団体コード", "population": "人口"}


def test_frames_carry_provenance_attrs(built):
    """load()/sql() label their frames so methods and charts can name the outcome and say 模擬データ."""
    frame = data.load("population")
    assert frame.attrs["tables"] == ["population"]
    assert frame.attrs["synthetic"] is False
    assert frame.attrs["column_titles"]["population"] == "人口"
    assert frame.attrs["column_units"] == {"population": "人"}
    joined = data.sql(
        "SELECT a.name, p.population FROM population p JOIN area a ON a.code5 = p.area_code "
        "WHERE p.year = $y",
        {"y": 2020},
    )
    assert joined.attrs["tables"] == ["area", "population"]
    assert joined.attrs["column_titles"] == {"name": "名称", "population": "人口"}


# --- municipality names and catalog flags on the real tables ------------------------------------


def test_every_population_table_with_a_municipality_code_has_names(real):
    """Each real table whose area_code refers to `municipality` carries the municipality's name.

    Reference: the names are those of 全国地方公共団体コード (abr_address_master/lgcode.csv) for the
    current code, e.g. 03201 盛岡市, 03216 滝沢市 (滝沢村 03305 until 2014), 03000 岩手県.
    """
    from ebpm.data.spec import load_catalog

    specs = {s.name: s for s in load_catalog(ROOT / "data" / "catalog")}
    with_codes = [  # population tables: a municipality code and a count of people
        name
        for name in REAL_TABLES
        if specs[name].field("area_code") is not None
        and any(f.unit == "人" for f in specs[name].fields)
    ]
    assert set(with_codes) == {
        "census_population",
        "census_2020_prelim",
        "census_industry_2020",
        "resident_population",
        "smallarea_2015",
    }
    for name in with_codes:
        assert specs[name].field("area_name") is not None, name
        assert specs[name].field("area_name").title, name  # documented in the dictionary
        frame = data.load(name)
        assert frame["area_name"].notna().all(), name
    named = data.sql(
        "SELECT DISTINCT area_code, area_name FROM resident_population "
        "WHERE area_code IN ('03000', '03201', '03216')"
    )
    assert dict(named.itertuples(index=False)) == {
        "03000": "岩手県",
        "03201": "盛岡市",
        "03216": "滝沢市",
    }
    wrong = data.sql(
        "SELECT r.area_code FROM resident_population r JOIN municipality m ON m.code5 = r.area_code "
        "WHERE m.level <> 'prefecture' AND m.name <> r.area_name"
    )
    assert len(wrong) == 0


def test_census_flag_reaches_frames_and_describe(real):
    """Tables flagged `census: true` (全数) load with attrs['census']; describe then gives no CI."""
    import ebpm

    cities = data.sql(
        "SELECT c.area_name, c.total FROM census_population c JOIN municipality m "
        "ON m.code5 = c.area_code WHERE c.year = 2020 AND m.name LIKE '%市'"
    )
    # a census joined with the list of all municipalities (also 全数) is still a census
    assert len(cities) == 14 and cities.attrs["census"] is True
    only = data.load("census_population", year=2020)
    assert only.attrs["census"] is True
    cities14 = only[only["area_name"].str.endswith("市")]
    assert len(cities14) == 14 and cities14.attrs["census"] is True
    res = ebpm.describe(cities14, "total")
    assert "全数のため信頼区間は示さない" in res.summary_ja()
    assert res.details["table"]["ci_low"].isna().all()
    assert data.load("shelter").attrs["census"] is False  # not flagged: CIs stay
    assert data.table_info("census_population")["census"] is True


def test_catalog_eligibility_reaches_did(tmp_path, monkeypatch):
    """procedure declares `eligibility: online_legally_possible`: loading it labels the frame, and a
    staggered DiD on a panel merged from it questions the procedures that can never go online."""
    import warnings

    import ebpm
    from ebpm import labels

    (tmp_path / "catalog").mkdir()
    for name in ("procedure", "procedure_usage"):
        shutil.copy(ROOT / "data" / "catalog" / f"{name}.yml", tmp_path / "catalog")
    monkeypatch.setenv("EBPM_RAW", str(ROOT / "data" / "raw"))
    monkeypatch.setenv("EBPM_CATALOG", str(tmp_path / "catalog"))
    monkeypatch.setenv("EBPM_CURATED", str(tmp_path / "curated"))
    build_mod.build()
    labels.forget()
    procedures = data.load("procedure")
    assert procedures.attrs["eligibility"] == "online_legally_possible"
    info = data.table_info("procedure")
    assert info["eligibility"] == "online_legally_possible" and info["census"] is False
    usage = data.sql(
        "SELECT procedure_id, date_trunc('year', month) AS year, sum(applications) AS counter "
        "FROM procedure_usage WHERE channel = '窓口' GROUP BY ALL"
    )
    panel = usage.merge(
        procedures[["procedure_id", "online_since", "online_legally_possible"]], on="procedure_id"
    )  # pandas drops attrs here; the column name is enough
    panel["first"] = panel["online_since"].dt.year
    panel["year"] = panel["year"].dt.year
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ebpm.did(panel, y="counter", unit="procedure_id", time="year", first_treated="first")
    never = procedures[procedures["online_since"].isna()]
    expected = int((~never["online_legally_possible"]).sum())  # 12 of the 101 (docs/synthetic.md)
    assert expected > 0
    assert res.diagnostics["eligibility_from_catalog"] is True
    assert res.diagnostics["n_ineligible_controls"] == expected
    labels.forget()


def test_rehearsal_opens_the_snapshot_and_records_no_table(built):
    """A warm spare kernel's rehearsal (ebpm.report.warm) opens this process's connection on the
    current snapshot and leaves the provenance list empty; a later read still records its table."""
    data.load("population")
    data.rehearse()
    assert data._cache["key"] is not None and data._cache["con"] is not None
    assert data.accessed_tables() == []
    data.load("population", area_code="03201")
    assert data.accessed_tables() == ["population"]


def test_rehearsal_before_the_first_build_does_nothing(project):
    data.rehearse()  # a spare kernel may warm before `ebpm build` has ever run
    with pytest.raises(DataAccessError, match="ebpm build"):
        data.load("population")
