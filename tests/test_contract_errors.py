"""Contract: every wrong input to the public API becomes a Japanese ebpm error naming the argument.

One table of (call, argument, words the message must contain). Each call feeds a public function a
wrong type, an unknown column or name, a wrong option or an out-of-range number. The error must be
an ``ebpm.errors.EbpmError`` (never a raw KeyError / TypeError / DuckDB error), written in Japanese,
naming the argument, and saying what is allowed (for unknown names: did-you-mean candidates).
"""

from __future__ import annotations

import re

import ebpm
import numpy as np
import pandas as pd
import pytest
from ebpm.errors import EbpmError

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _panel() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for u in range(12):
        first = 6 if u < 6 else np.nan
        for t in range(1, 11):
            treated = not np.isnan(first) and t >= first
            rows.append(
                {
                    "office": f"u{u}",
                    "period": t,
                    "first_treated": first,
                    "visits": 100 + u + t - 5 * treated + rng.normal(),
                    "treat": int(u < 6),
                    "post": int(t >= 6),
                    "share": rng.uniform(),
                }
            )
    return pd.DataFrame(rows)


def _rd() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    x = rng.uniform(300, 420, 400)
    return pd.DataFrame({"income": x, "applied": 0.3 + 0.2 * (x >= 360) + rng.normal(0, 0.1, 400)})


PANEL = _panel()
RD = _rd()
SERIES = pd.DataFrame(
    {"t": range(1, 25), "y": np.arange(24, dtype=float) + 5 * (np.arange(24) >= 12)}
)
MAP = pd.DataFrame(
    {"code": ["03201"], "value": [1.0], "lon": [141.1], "lat": [39.7], "y": [1], "w": [1.0]}
)
DID = {"y": "visits", "unit": "office", "time": "period", "first_treated": "first_treated"}

# (id, call, argument named in the error, words the message must contain)
CASES = [
    # --- estimators: unknown columns (did-you-mean), wrong types, options, ranges ---------------
    ("did-unknown-y", lambda: ebpm.did(PANEL, **{**DID, "y": "visit"}), "y", "「visits」"),
    ("did-y-list", lambda: ebpm.did(PANEL, **{**DID, "y": ["visits"]}), "y", "文字列"),
    ("did-control", lambda: ebpm.did(PANEL, **DID, control="nevr"), "control", "「never」"),
    ("did-method", lambda: ebpm.did(PANEL, **DID, method="cs"), "method", "いずれか"),
    (
        "event-unit-typo",
        lambda: ebpm.event_study(
            PANEL, y="visits", unit="ofice", time="period", first_treated="first_treated"
        ),
        "unit",
        "「office」",
    ),
    (
        "event-window-text",
        lambda: ebpm.event_study(PANEL, **DID, window="4"),
        "window",
        "整数",
    ),
    (
        "event-reference-text",
        lambda: ebpm.event_study(PANEL, **DID, reference="-1"),
        "reference",
        "整数",
    ),
    ("its-start-text", lambda: ebpm.its(SERIES, y="y", time="t", start="12"), "start", "数値"),
    (
        "its-start-date-on-numbers",
        lambda: ebpm.its(SERIES, y="y", time="t", start="令和5年10月2日"),
        "start",
        "数値",
    ),
    (
        "its-family",
        lambda: ebpm.its(SERIES, y="y", time="t", start=12, family="poison"),
        "family",
        "「poisson」",
    ),
    (
        "its-seasonality",
        lambda: ebpm.its(SERIES, y="y", time="t", start=12, seasonality=-1),
        "seasonality",
        "0以上",
    ),
    (
        "its-period-text",
        lambda: ebpm.its(SERIES, y="y", time="t", start=12, period="12"),
        "period",
        "数値",
    ),
    ("its-unknown-time", lambda: ebpm.its(SERIES, y="y", time="tt", start=12), "time", "「t」"),
    (
        "rdd-cutoff-text",
        lambda: ebpm.rdd(RD, y="applied", x="income", cutoff="360"),
        "cutoff",
        "数値",
    ),
    (
        "rdd-kernel",
        lambda: ebpm.rdd(RD, y="applied", x="income", cutoff=360, kernel="gauss"),
        "kernel",
        "いずれか",
    ),
    ("rdd-p", lambda: ebpm.rdd(RD, y="applied", x="income", cutoff=360, p=-1), "p", "0〜4の整数"),
    (
        "rdd-bandwidth",
        lambda: ebpm.rdd(RD, y="applied", x="income", cutoff=360, bandwidth=-5),
        "bandwidth",
        "0より大きい数値",
    ),
    ("rdd-unknown-x", lambda: ebpm.rdd(RD, y="applied", x="incme", cutoff=360), "x", "「income」"),
    (
        "synth-time-text",
        lambda: ebpm.synth(
            PANEL, y="visits", unit="office", time="period", treated_unit="u0", treatment_time="6"
        ),
        "treatment_time",
        "数値",
    ),
    (
        "synth-unit-typo",
        lambda: ebpm.synth(
            PANEL, y="visits", unit="office", time="period", treated_unit="u99", treatment_time=6
        ),
        "treated_unit",
        "ある単位",
    ),
    ("power-effect-text", lambda: ebpm.power(effect_size="0.5", n=100), "effect_size", "数値"),
    ("power-alpha-range", lambda: ebpm.power(effect_size=0.5, n=100, alpha=1.5), "alpha", "1未満"),
    (
        "power-design",
        lambda: ebpm.power(effect_size=0.5, n=100, design="two-sample"),
        "design",
        "「two_sample」",
    ),
    ("power-n-negative", lambda: ebpm.power(effect_size=0.5, n=-3), "n", "0より大きい"),
    ("describe-unknown", lambda: ebpm.describe(PANEL, columns="visit"), "columns", "「visits」"),
    (
        "describe-quantile",
        lambda: ebpm.describe(PANEL, columns="visits", quantiles=[1.5]),
        "quantiles",
        "0と1の間",
    ),
    ("regress-unknown", lambda: ebpm.regress(PANEL, "visit ~ share"), "formula", "「visits」"),
    ("regress-formula-type", lambda: ebpm.regress(PANEL, 3), "formula", "文字列の式"),
    ("regress-se", lambda: ebpm.regress(PANEL, "visits ~ share", se="HC5"), "se", "HC1"),
    # --- disclosure, reports, synthetic city --------------------------------------------------
    (
        "suppress-threshold-text",
        lambda: ebpm.suppress(PANEL, count_columns=["visits"], threshold="10"),
        "threshold",
        "整数",
    ),
    (
        "suppress-unknown",
        lambda: ebpm.suppress(PANEL, count_columns=["visit"]),
        "count_columns",
        "「visits」",
    ),
    ("record-name", lambda: ebpm.record(3, 1), "name", "文字列"),
    ("ground-truth-typo", lambda: ebpm.ground_truth("counter_vist"), "table", "「counter_visit」"),
    ("synthesize-seed", lambda: ebpm.synthesize(seed="x"), "seed", "整数"),
    (
        "choropleth-typo",
        lambda: ebpm.choropleth(MAP, code="cod", value="value"),
        "code",
        "「code」",
    ),
    ("points_map-typo", lambda: ebpm.points_map(MAP, lon="lng", lat="lat"), "lon", "「lon」"),
    (
        "weighted_proportions-typo",
        lambda: ebpm.weighted_proportions(MAP, y="yy", weight="w"),
        "y",
        "「y」",
    ),
    (
        "cohort_change_projection-text",
        lambda: ebpm.cohort_change_projection(MAP, base_year="2020", to_year=2030),
        "base_year",
        "整数",
    ),
    ("logic_model-typo", lambda: ebpm.logic_model("dx_pln"), "slug", "「dx_plan」"),
    ("logic_model-type", lambda: ebpm.logic_model(3), "slug", "文字列"),
    (
        "compare-unknown-unit",
        lambda: ebpm.compare(PANEL, y="visits", unit="office", time="period", focus="u99"),
        "focus",
        "ある単位",
    ),
    (
        "compare-peers",
        lambda: ebpm.compare(
            PANEL, y="visits", unit="office", time="period", focus="u0", peers="same"
        ),
        "peers",
        "いずれか",
    ),
]

# the curated database (tiny fixture project): names, filter values of the wrong type, SQL mistakes
DATA_CASES = [
    ("load-table-typo", lambda: ebpm.load("populaton"), "name", "「population」"),
    ("load-name-type", lambda: ebpm.load(3), "name", "文字列"),
    ("load-column-typo", lambda: ebpm.load("population", yaer=2020), "yaer", "「year」"),
    ("load-digits-for-int", lambda: ebpm.load("population", year="2020"), "year", "引用符なし"),
    ("load-text-for-int", lambda: ebpm.load("population", population="many"), "population", "整数"),
    ("sql-table-typo", lambda: ebpm.sql("SELECT * FROM populaton"), "query", "「population」"),
    (
        "sql-column-typo",
        lambda: ebpm.sql("SELECT popultion FROM population"),
        "query",
        "「population」",
    ),
    (  # candidates come from the table the query reads, not from every curated table
        "sql-column-of-another-table",
        lambda: ebpm.sql("SELECT nme FROM population"),
        "query",
        "ある列: area_code, note, population, year",
    ),
    ("sql-type", lambda: ebpm.sql(3), "query", "文字列"),
    (
        "sql-params-type",
        lambda: ebpm.sql("SELECT * FROM population WHERE year = $y", 2020),
        "params",
        "辞書",
    ),
    (
        "sql-wrong-value",
        lambda: ebpm.sql("SELECT * FROM population WHERE year = $y", {"y": "令和2年"}),
        "query",
        "型",
    ),
    # --- calls the signature cannot take: Python's TypeError becomes a Japanese error -----------
    (
        "synth-unknown-keyword",
        lambda: ebpm.synth(
            PANEL, y="visits", unit="office", time="period", treated="u0", treatment_time=6
        ),
        "treated",
        "もしかして「treated_unit」",
    ),
    ("did-unknown-keyword", lambda: ebpm.did(PANEL, **DID, untt="x"), "untt", "「unit」"),
    ("its-missing-start", lambda: ebpm.its(SERIES, y="y", time="t"), "start", "必要"),
    ("load-name-as-keyword", lambda: ebpm.load(name="population"), "name", "位置で指定"),
    (
        "describe-too-many-positional",
        lambda: ebpm.describe(SERIES, "y", None, None, (0.5,)),
        "quantiles",
        "名前=値",
    ),
    (
        "read-csv-missing",
        lambda: ebpm.read_csv("no_such_file.csv"),
        "no_such_file.csv",
        "ありません",
    ),
]


def test_load_reads_wareki_years_and_dates(built_tiny):
    """和暦 where the column is a year: ``load(year="令和2年")`` is the 2020 row."""
    assert ebpm.load("population", year="令和2年", area_code="03201")["population"].tolist() == [
        289731
    ]


def _assert_contract(call, argument: str, words: str) -> None:
    with pytest.raises(Exception) as info:  # noqa: PT011 - the type is the point of the check
        call()
    err = info.value
    assert isinstance(err, EbpmError), f"{type(err).__name__}: {err}"
    text = str(err)
    assert JAPANESE.search(text), text
    assert argument in text or getattr(err, "parameter", None) == argument, text
    assert words in text, text
    for raw in (
        "KeyError",
        "TypeError",
        "Traceback",
        "Catalog Error",
        "Binder Error",
        "Conversion Error",
    ):
        assert raw not in text, text


@pytest.mark.parametrize(
    ("call", "argument", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_wrong_input_is_a_japanese_error(call, argument, words):
    _assert_contract(call, argument, words)


@pytest.fixture
def built_tiny(tiny_built):
    """The tiny fixture project (conftest ``project``), built (a copy of one build: conftest
    ``tiny_built``)."""
    return tiny_built


@pytest.mark.parametrize(
    ("call", "argument", "words"), [c[1:] for c in DATA_CASES], ids=[c[0] for c in DATA_CASES]
)
def test_wrong_data_request_is_a_japanese_error(built_tiny, call, argument, words):
    _assert_contract(call, argument, words)


def test_every_public_function_is_in_the_table():
    """A new public function gets rows in the table above (or is listed here as taking no input)."""
    covered = {
        c[0].split("-")[0].replace("ground", "ground_truth").replace("event", "event_study")
        for c in CASES + DATA_CASES
    }
    covered |= {"read_csv"}
    no_user_input = {"connect", "catalog", "build", "figure", "show", "read_excel", "theme"}
    callables = {n for n in ebpm._LAZY if callable(getattr(ebpm, n))}
    missing = callables - covered - no_user_input
    assert not missing, f"契約テストの表にない公開関数: {sorted(missing)}"
