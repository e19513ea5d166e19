"""Tests of the deterministic 模擬データ city (ebpm.synthesize / ebpm synthesize)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from ebpm import config
from ebpm.errors import ParameterError
from ebpm.synth_city import TABLES, Settings, synthesize
from ebpm.synth_city import margins as margins_mod
from ebpm.synth_city.common import fiscal_year, largest_remainder, table_rng

# the module fixture (the synthesised city) is made once, on one worker, not once per xdist worker
pytestmark = pytest.mark.xdist_group("synthesize")

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "synthetic.md"
CATALOG = ROOT / "data" / "catalog"
SEED = 20260401


def _margins() -> margins_mod.Margins:
    """The real margins shipped in data/raw: a missing or unreadable one is a failure, never a skip."""
    return margins_mod.load()


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _margins()
    return synthesize(seed=SEED, out=tmp_path_factory.mktemp("city") / "synthetic_morioka")


@pytest.fixture(scope="module")
def truth(city: Path) -> dict:
    return yaml.safe_load((city / "ground_truth.yml").read_text(encoding="utf-8"))


def _read(city: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(city / f"{table}.csv", dtype={"town_id": str}, keep_default_na=True)


# --- pure helpers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (10, [1, 1], [5, 5]),
        (10, [1, 1, 1], [4, 3, 3]),  # tie: the first position gets the extra unit
        (7, [0.5, 0.25, 0.25], [3, 2, 2]),  # quotas 3.5, 1.75, 1.75
        (0, [3, 1], [0, 0]),
        (5, [0, 1], [0, 5]),
        (100, [0.333, 0.333, 0.334], [33, 33, 34]),
    ],
)
def test_largest_remainder(total: int, weights: list[float], expected: list[int]) -> None:
    got = largest_remainder(total, np.array(weights, dtype=float))
    assert got.tolist() == expected
    assert int(got.sum()) == total


@pytest.mark.parametrize(
    ("day", "fy"),
    [
        (dt.date(2026, 3, 31), 2025),
        (dt.date(2025, 4, 1), 2025),
        (dt.date(2021, 1, 15), 2020),
        (dt.date(2019, 12, 31), 2019),
    ],
)
def test_fiscal_year(day: dt.date, fy: int) -> None:
    assert fiscal_year(day) == fy


def test_table_rng_is_per_table_and_order_free() -> None:
    a1 = table_rng(5, "counter_visit").random(3)
    table_rng(5, "call_centre").random(100)  # drawing from another table changes nothing
    a2 = table_rng(5, "counter_visit").random(3)
    assert a1.tolist() == a2.tolist()
    assert a1.tolist() != table_rng(5, "call_centre").random(3).tolist()
    assert a1.tolist() != table_rng(6, "counter_visit").random(3).tolist()


# --- determinism and layout ---------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(city: Path, tmp_path: Path) -> None:
    again = synthesize(seed=SEED, out=tmp_path / "again")
    assert _digests(city) == _digests(again)


def test_bundled_data_is_the_default_seed_output(city: Path) -> None:
    bundled = config.paths().root / "data" / "raw" / "synthetic_morioka"
    if not (bundled / "SOURCE.yml").exists():
        pytest.fail(
            "data/raw/synthetic_morioka/SOURCE.yml がありません（同梱の模擬データが壊れている）"
        )
    assert _digests(bundled) == _digests(city), "run `ebpm synthesize --seed 20260401` and commit"


def test_different_seed_changes_data_but_not_real_margins(tmp_path: Path) -> None:
    m = _margins()
    from ebpm.synth_city import counters, population, subsidy

    assert not population.generate(m, 1).equals(population.generate(m, 2))
    assert not counters.generate(1, -4.0)[0].equals(counters.generate(2, -4.0)[0])
    assert not subsidy.generate(1, 0.25)[0].equals(subsidy.generate(2, 0.25)[0])
    per_year = population.generate(m, 2).groupby("year")["population"].sum()
    assert per_year.to_dict() == m.totals


def test_one_setting_changes_only_its_table(city: Path) -> None:
    from ebpm.synth_city import callcentre, counters

    base_calls = callcentre.generate(SEED, -0.18, -0.10)[0]
    assert base_calls.equals(callcentre.generate(SEED, -0.18, -0.10)[0])
    other = counters.generate(SEED, -2.0)[0]
    default = _read(city, "counter_visit")
    assert (other["visits"].to_numpy() == default["visits"].to_numpy()).all()
    assert not np.allclose(other["mean_wait_min"], default["mean_wait_min"])


def test_files_source_and_labels(city: Path) -> None:
    names = sorted(p.name for p in city.iterdir())
    assert names == sorted([f"{t}.csv" for t in TABLES] + ["SOURCE.yml", "ground_truth.yml"])
    total = sum(p.stat().st_size for p in city.iterdir())
    assert total < 20 * 1024 * 1024
    src = yaml.safe_load((city / "SOURCE.yml").read_text(encoding="utf-8"))
    assert src["synthetic"] is True and src["label"] == "模擬データ" and src["seed"] == SEED
    assert src["publisher"] == "ebpm（模擬データ生成）"
    listed = {f["path"]: f["sha256"] for f in src["files"]}
    assert listed == {k: v for k, v in _digests(city).items() if k != "SOURCE.yml"}
    assert {m["source"] for m in src["margins"]} == {
        "iwate_estat_municipal",
        "soumu_juki_population",
        "abr_address_master",
    }
    for p in city.glob("*.csv"):
        raw = p.read_bytes()
        assert b"\r" not in raw and raw.endswith(b"\n")
        raw.decode("utf-8")


def test_no_personal_names_only_pseudonymous_ids(city: Path) -> None:
    staff = _read(city, "staff_training")
    assert staff["staff_id"].str.fullmatch(r"S\d{6}").all()
    assert not {"name", "氏名", "staff_name"} & set(staff.columns)
    assert _read(city, "subsidy_application")["household_id"].str.fullmatch(r"H\d{5}").all()


# --- calibration to the real margins --------------------------------------------------------------


def _real_totals() -> dict[int, int]:
    path = None
    for base in (config.paths().raw, config.paths().shared / "data" / "public"):
        candidate = base / "iwate_estat_municipal" / "population_2013_2026.csv"
        if candidate.exists():
            path = candidate
            break
    if path is None:
        pytest.fail("住基の総人口ファイル（data/raw/iwate_estat_municipal）がありません")
    with open(path, encoding="utf-8") as fh:
        return {int(r["year"]): int(r["total"]) for r in csv.DictReader(fh) if r["code"] == "03201"}


def test_population_sums_equal_real_juki_totals(city: Path) -> None:
    pop = _read(city, "population_by_town")
    got = pop.groupby("year")["population"].sum().to_dict()
    assert got == _real_totals()
    assert got[2026] == 274941 and got[2022] == 285270  # population_2013_2026.csv, 03201


def test_population_2022_bands_equal_real_bands(city: Path) -> None:
    m = _margins()
    pop = _read(city, "population_by_town")
    y = pop[pop["year"] == 2022].groupby(["sex", "age_from"])["population"].sum()
    assert y.loc["male"].tolist() == m.age_sex_2022[0].tolist()
    assert y.loc["female"].tolist() == m.age_sex_2022[1].tolist()
    # 2204ssnen.xlsx row 032018 男 (0–4歳 4,953; 100歳以上 19), 女 100歳以上 146
    assert (y.loc[("male", 0)], y.loc[("male", 100)], y.loc[("female", 100)]) == (4953, 19, 146)


def test_population_towns_are_the_real_town_master(city: Path) -> None:
    m = _margins()
    pop = _read(city, "population_by_town")
    assert set(pop["town_id"]) == {t.town_id for t in m.towns}
    assert len(m.towns) == 293  # ABR 町字区分 1 (115) + 2 (178), none abolished
    assert (pop["population"] >= 0).all()
    cells = pop.groupby(["year", "town_id"]).size()
    assert (cells == 42).all()  # 2 sexes × 21 bands, a full panel


# --- KPIs: the four queries of docs/synthetic.md, run on typed views of the CSVs ------------------


def _kpi_queries() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n-- kpi: (\w+)\n(.*?)```", text, flags=re.S)
    return {name: sql for name, sql in blocks}


def _typed_views(con, city: Path, tables: list[str]) -> None:
    from ebpm.data.spec import load_table

    for table in tables:
        spec = load_table(CATALOG / f"{table}.yml")
        cols = ", ".join(
            f"CAST(NULLIF({f.name}, '') AS {f.duckdb_type}) AS {f.name}" for f in spec.fields
        )
        path = str(city / f"{table}.csv").replace("'", "''")
        con.execute(
            f"CREATE VIEW {table} AS SELECT {cols} "
            f"FROM read_csv('{path}', header=true, all_varchar=true)"
        )


def test_docs_have_four_kpi_queries() -> None:
    assert list(_kpi_queries()) == [
        "online_procedure_share",
        "core_systems_done",
        "staff_training_cumulative",
        "digital_workshops_cumulative",
    ]


@pytest.mark.parametrize(
    "kpi",
    [
        "online_procedure_share",
        "core_systems_done",
        "staff_training_cumulative",
        "digital_workshops_cumulative",
    ],
)
def test_kpi_query_matches_ground_truth(city: Path, truth: dict, kpi: str) -> None:
    import duckdb

    con = duckdb.connect()
    _typed_views(con, city, ["procedure", "core_system", "staff_training", "digital_workshop"])
    got = con.execute(_kpi_queries()[kpi]).df()
    want = truth["kpi"][kpi]["by_fy"]
    assert got["fiscal_year"].tolist() == [2021, 2022, 2023, 2024, 2025]
    for fy, value in zip(got["fiscal_year"], got["value"], strict=True):
        assert math.isclose(float(value), float(want[int(fy)]), abs_tol=1e-6), (kpi, fy)
    assert truth["kpi"][kpi]["target"] in (0.8, 20, 1000, 130)


def test_kpi_values_are_plausible(truth: dict) -> None:
    k = truth["kpi"]
    assert 0.70 < k["online_procedure_share"]["by_fy"][2025] < 0.80  # misses the 80% target
    assert k["core_systems_done"]["by_fy"][2025] == 18  # two systems migrate after FY2025
    assert k["staff_training_cumulative"]["by_fy"][2025] >= 1000
    for name in ("staff_training_cumulative", "digital_workshops_cumulative"):
        series = list(k[name]["by_fy"].values())
        assert series == sorted(series)  # cumulative


# --- ground truth is consistent with the data ------------------------------------------------------


def test_priority_procedures(city: Path) -> None:
    proc = _read(city, "procedure")
    prio = proc[proc["priority_27"]]
    assert prio["priority_group"].value_counts().to_dict() == {
        "子育て": 15,
        "介護": 11,
        "被災者支援": 1,
    }
    assert prio["online_legally_possible"].all()
    usage = _read(city, "procedure_usage").merge(proc, on="procedure_id")
    online = usage[usage["channel"] == "オンライン"]
    early = online["online_since"].isna() | (online["month"] < online["online_since"])
    assert (online.loc[early, "applications"] == 0).all()


def test_rdd_jump_recovered_by_local_linear_fit(city: Path, truth: dict) -> None:
    """Independent check with numpy: separate lines within ±50万円 of the cutoff.

    With about 1,900 households in the window the standard error of the jump is about 0.045,
    so a tolerance of 0.12 (about 2.7 SE) fails only when the planted jump is wrong.
    """
    gt = truth["subsidy_application"]
    df = _read(city, "subsidy_application")
    x = df["income_man_yen"] - gt["cutoff"]
    y = df["applied"].astype(float)
    h = 50.0
    left, right = (x < 0) & (x > -h), (x >= 0) & (x < h)
    b_left = np.polyfit(x[left], y[left], 1)
    b_right = np.polyfit(x[right], y[right], 1)
    jump = np.polyval(b_left, 0.0) - np.polyval(b_right, 0.0)
    assert abs(jump - gt["jump_eligible_minus_ineligible"]) < 0.12
    near = x.abs() < 10
    diff = y[near & (x < 0)].mean() - y[near & (x >= 0)].mean()
    assert abs(diff - gt["jump_eligible_minus_ineligible"]) < 0.15  # simple difference of means
    assert gt["jump_right_minus_left"] == -gt["jump_eligible_minus_ineligible"]
    # no manipulation: as many households just below as just above the cutoff (binomial, 4 SD)
    n_lo, n_hi = int(((x < 0) & (x > -10)).sum()), int(((x >= 0) & (x < 10)).sum())
    assert abs(n_lo - n_hi) < 4 * math.sqrt(n_lo + n_hi)


def test_its_effect_recovered_by_poisson_glm(city: Path, truth: dict) -> None:
    """Reference: statsmodels quasi-Poisson GLM with the generating design; tolerance 3 SE."""
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    gt = truth["call_centre"]
    df = _read(city, "call_centre")
    d = pd.to_datetime(df["date"])
    launch = pd.Timestamp(gt["launch_date"])
    df["t"] = (d - d.min()).dt.days / 365.25
    df["post"] = (d >= launch).astype(int)
    df["t_post"] = np.where(df["post"] == 1, (d - launch).dt.days / 365.25, 0.0)
    df["dow"] = d.dt.day_of_week
    df["year_end"] = ((d.dt.month == 12) & (d.dt.day >= 29)) | ((d.dt.month == 1) & (d.dt.day <= 3))
    df["hol"] = df["is_holiday"] & (df["dow"] < 5)
    w = d.dt.day_of_year / 365.25 * 2 * np.pi
    for k in (1, 2):
        df[f"s{k}"], df[f"c{k}"] = np.sin(k * w), np.cos(k * w)
    fit = smf.glm(
        "inquiries ~ t + post + t_post + C(dow) + hol + year_end + s1 + c1 + s2 + c2",
        df,
        family=sm.families.Poisson(),
    ).fit(scale="X2")
    assert df.loc[df["post"] == 1, "chatbot"].all() and not df.loc[df["post"] == 0, "chatbot"].any()
    assert abs(fit.params["post"] - gt["level_change_log"]) < 3 * fit.bse["post"]
    assert abs(fit.params["t_post"] - gt["slope_change_log_per_year"]) < 3 * fit.bse["t_post"]
    assert fit.bse["post"] < abs(gt["level_change_log"]) / 5  # effect large relative to noise


@pytest.mark.parametrize(
    ("day", "holiday"),
    [
        # 内閣府「国民の祝日について」: the 2021 Olympic moves, substitute holidays (振替休日)
        ("2021-07-22", True),  # 海の日 (moved for the Olympics)
        ("2021-07-23", True),  # スポーツの日 (moved)
        ("2021-10-11", False),  # the usual スポーツの日 slot was a working day in 2021
        ("2024-02-12", True),  # 振替休日 (建国記念の日 on a Sunday)
        ("2025-05-06", True),  # 振替休日 (みどりの日 on a Sunday)
        ("2023-10-02", False),  # chatbot launch day: an ordinary Monday
    ],
)
def test_call_centre_holidays(city: Path, day: str, holiday: bool) -> None:
    df = _read(city, "call_centre").set_index("date")
    assert bool(df.loc[day, "is_holiday"]) is holiday


def test_did_truth_consistent_with_data(city: Path, truth: dict) -> None:
    """2×2 comparison of the first cohort with the never-treated offices, full-effect months only."""
    gt = truth["counter_visit"]
    df = _read(city, "counter_visit")
    first = gt["cohorts"]["2021-10"]
    month = pd.to_datetime(df["month"])
    pre = month < "2021-10-01"
    full = month >= "2022-01-01"  # three months after adoption: the ramp is over
    g = df["office"].isin(first)
    c = df["office"].isin(gt["never_treated"])
    y = df["mean_wait_min"]
    est = (y[g & full].mean() - y[g & pre].mean()) - (y[c & full].mean() - y[c & pre].mean())
    want = np.mean([gt["full_effect_by_office"][o] for o in first])
    assert abs(est - want) < 1.5  # monthly noise ~1–2 分, AR(1); 2×2 SE about 0.5 分
    assert gt["clipped_cells"] == 0
    assert set(gt["att_by_cohort"]) == {"2021-10", "2022-10", "2023-07", "2024-04"}
    assert len(gt["never_treated"]) == 3
    treated_post = df[df["cashless"]]
    assert len(treated_post) > 200
    assert min(gt["att_by_office"].values()) < 0 and gt["pre_period_effect"] == 0.0
    # heterogeneity: cohorts differ and offices within a cohort differ
    assert np.ptp(list(gt["att_by_cohort"].values())) > 1.0


def test_survey_weights_correct_nonresponse(city: Path, truth: dict) -> None:
    gt = truth["citizen_survey"]
    df = _read(city, "citizen_survey")
    resp = df[df["responded"]]
    for fy, g in resp.groupby("fiscal_year"):
        weighted = np.average(g["satisfaction"], weights=g["weight"])
        assert abs(weighted - gt["population_mean_satisfaction"][fy]) < 0.2
    assert df.groupby("fiscal_year")["responded"].mean().between(0.3, 0.6).all()
    rates = df.groupby("age_group")["responded"].mean()
    assert rates["18-29"] < rates["65-74"]  # non-response depends on age


# --- bad settings are refused ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"seed": 1.5}, "seed"),
        ({"seed": "7"}, "seed"),
        ({"seed": True}, "seed"),
        ({"seed": -1}, "seed"),
        ({"settings": Settings(cashless_effect=-30.0)}, "cashless_effect"),
        ({"settings": Settings(cashless_effect=float("nan"))}, "cashless_effect"),
        ({"settings": Settings(chatbot_level_change=-1.0)}, "chatbot_level_change"),
        ({"settings": Settings(chatbot_slope_change=5.0)}, "chatbot_slope_change"),
        ({"settings": Settings(subsidy_jump=0.9)}, "subsidy_jump"),
        ({"settings": Settings(subsidy_jump=-0.5)}, "subsidy_jump"),
    ],
)
def test_bad_settings_refused(tmp_path: Path, kwargs: dict, parameter: str) -> None:
    kwargs = {"seed": 1, **kwargs}
    with pytest.raises(ParameterError) as err:
        synthesize(out=tmp_path / "x", **kwargs)
    assert err.value.parameter == parameter
    assert re.search(r"[ぁ-んァ-ヶ一-龥]", str(err.value))  # a Japanese message
    assert not (tmp_path / "x").exists()


def test_cli_refuses_non_integer_seed(tmp_path: Path) -> None:
    from ebpm.cli import app
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["synthesize", "--seed", "abc", "--out", str(tmp_path / "x")])
    assert result.exit_code != 0
    assert isinstance(result.exception, ParameterError)
    assert "整数" in str(result.exception)


def test_failed_write_leaves_previous_files(city: Path, tmp_path: Path, monkeypatch) -> None:
    import shutil

    from ebpm.synth_city import generate

    target = tmp_path / "synthetic_morioka"
    shutil.copytree(city, target)
    before = _digests(target)

    def broken(frame, path, float_format="%.2f"):
        raise OSError("disk full")

    monkeypatch.setattr(generate, "write_csv", broken)
    with pytest.raises(OSError):
        synthesize(seed=99, out=target)
    assert _digests(target) == before
    assert [p.name for p in tmp_path.iterdir()] == ["synthetic_morioka"]  # no temp dir left


# --- ground truth as table metadata and the real build ----------------------------------------------


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("counter_visit", "att_overall"),
        ("call_centre", "level_change_ratio"),
        ("subsidy_application", "jump_eligible_minus_ineligible"),
        ("citizen_survey", "population_mean_satisfaction"),
        ("procedure", "by_fy"),
        ("core_system", "by_fy"),
        ("population_by_town", "total_by_year"),
    ],
)
def test_ground_truth_helper(city: Path, monkeypatch, table: str, key: str) -> None:
    import ebpm

    monkeypatch.setenv("EBPM_RAW", str(city.parent))
    got = ebpm.ground_truth(table)
    assert key in got and got["label"] == "模擬データ" and got["seed"] == SEED


def test_every_synthetic_catalog_entry_is_labelled() -> None:
    for table in TABLES:
        entry = yaml.safe_load((CATALOG / f"{table}.yml").read_text(encoding="utf-8"))
        assert entry["synthetic"] is True
        assert "模擬データ" in entry["title"] and "模擬データ" in entry["description"]
        assert entry["ground_truth"]["file"] == "synthetic_morioka/ground_truth.yml"
        assert entry["sources"][0]["path"] == f"synthetic_morioka/{table}.csv"
        if table not in ("procedure", "core_system", "call_centre"):  # no person counts there
            assert entry["disclosure"]["threshold"] == 10


@pytest.mark.slow
def test_build_and_kpi_queries_on_curated_db(
    city: Path, truth: dict, tmp_path: Path, monkeypatch
) -> None:
    """`ebpm build` of the 模擬データ (plus the real tables it checks against) into a temp dir."""
    import shutil

    import ebpm
    from ebpm.data.builder import build

    real_raw = config.paths().raw
    for needed in ("iwate_estat_municipal", "abr_address_master"):
        if not (real_raw / needed / "SOURCE.yml").exists():
            pytest.fail(f"data/raw/{needed} がありません（同梱の実データが壊れている）")
    raw = tmp_path / "raw"
    raw.mkdir()
    for folder in real_raw.iterdir():  # the real sources as they are, the 模擬データ from `city`
        if folder.is_dir() and folder.name != "synthetic_morioka":
            (raw / folder.name).symlink_to(folder)
    (raw / "synthetic_morioka").symlink_to(city)
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    for table in (*TABLES, "resident_population", "town"):
        shutil.copy(CATALOG / f"{table}.yml", catalog / f"{table}.yml")
    monkeypatch.setenv("EBPM_RAW", str(raw))
    monkeypatch.setenv("EBPM_CATALOG", str(catalog))
    monkeypatch.setenv("EBPM_CURATED", str(tmp_path / "curated"))
    build()
    pop = ebpm.sql(
        "SELECT year, SUM(population) AS total FROM population_by_town GROUP BY year ORDER BY year"
    )
    assert dict(zip(pop["year"], pop["total"], strict=True)) == _real_totals()
    for name, query in _kpi_queries().items():
        got = ebpm.sql(query)
        want = truth["kpi"][name]["by_fy"]
        assert [round(float(v), 6) for v in got["value"]] == [
            round(float(v), 6) for v in want.values()
        ]


def test_refuses_to_overwrite_a_folder_that_is_not_synthetic(tmp_path: Path) -> None:
    target = tmp_path / "notes"
    target.mkdir()
    (target / "memo.txt").write_text("大事なメモ", encoding="utf-8")
    with pytest.raises(ParameterError) as err:
        synthesize(seed=1, out=target)
    assert err.value.parameter == "out"
    assert (target / "memo.txt").read_text(encoding="utf-8") == "大事なメモ"
    a_file = tmp_path / "file.csv"
    a_file.write_text("x\n", encoding="utf-8")
    with pytest.raises(ParameterError):
        synthesize(seed=1, out=a_file)


def test_cli_writes_settings_into_source_and_truth(tmp_path: Path) -> None:
    from ebpm.cli import app
    from typer.testing import CliRunner

    _margins()
    out = tmp_path / "city"
    args = ["synthesize", "--seed", "3", "--out", str(out), "--cashless-effect", "-2.5"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "模擬データを生成しました" in result.output
    src = yaml.safe_load((out / "SOURCE.yml").read_text(encoding="utf-8"))
    assert src["seed"] == 3 and src["settings"]["cashless_effect"] == -2.5
    gt = yaml.safe_load((out / "ground_truth.yml").read_text(encoding="utf-8"))
    assert gt["counter_visit"]["setting_cashless_effect"] == -2.5
    assert -2.5 * 1.25 * 1.5 < gt["counter_visit"]["att_overall"] < 0
