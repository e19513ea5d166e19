"""Tables of the study templates: Japanese column titles, catalog names and directions in words."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
from ebpm.report.lint import RULES
from ebpm.studies.tables import rdd_balance_table, synth_weights_table, year_row


def _no_raw_text(frame: pd.DataFrame) -> None:
    text = " ".join(map(str, [*frame.columns, frame.index.name, *frame.to_numpy().ravel()]))
    for key in ("snake_case", "exponent"):
        assert not RULES[key][1].search(text), (key, text)
    assert "-" not in " ".join(map(str, frame.to_numpy().ravel()))


def test_rdd_balance_table_speaks_japanese():
    balance = pd.DataFrame(
        [
            {"covariate": "youngest_child_age", "label": "末子の年齢", "unit": "歳",
             "estimate": 0.22, "ci_low": -0.13, "ci_high": 0.65, "pvalue": 0.19, "bandwidth": 38.64},
            {"covariate": "single_parent", "label": "ひとり親", "unit": "",
             "estimate": -0.02, "ci_low": -0.1, "ci_high": -0.05, "pvalue": 0.0004, "bandwidth": 45.85},
        ]
    )  # fmt: skip
    table = rdd_balance_table(SimpleNamespace(diagnostics={"covariate_balance": balance}))
    assert list(table.columns) == ["共変量", "しきい値での差", "95%信頼区間", "p値", "帯域幅"]
    assert table["共変量"].tolist() == ["末子の年齢", "ひとり親"]
    assert table.loc[0, "しきい値での差"] == "0.22歳高い"
    assert table.loc[0, "95%信頼区間"] == "0.13歳低いから0.65歳高いまで"
    assert table.loc[1, "95%信頼区間"] == "0.05〜0.1低い"
    assert table["p値"].tolist() == ["0.19", "<0.001"]
    _no_raw_text(table)
    assert rdd_balance_table(SimpleNamespace(diagnostics={})) is None


def test_synth_tables_have_japanese_titles():
    res = SimpleNamespace(weights=pd.Series({"滝沢市": 0.3265, "矢巾町": 0.6735, "遠野市": 0.0}))
    weights = synth_weights_table(res)
    assert weights.to_dict("list") == {"市町村": ["矢巾町", "滝沢市"], "重み": [0.674, 0.326]}
    panel = pd.DataFrame(
        {
            "name": ["盛岡市", "盛岡市", "滝沢市"],
            "year": [2013, 2014, 2013],
            "value": [100.0, 99.456, 100.0],
        }
    )
    row = year_row(panel, unit="name", which="盛岡市")
    assert row.index.name == "市町村" and row.columns.name == "年"
    assert row.loc["盛岡市"].tolist() == [100.0, 99.46]
    _no_raw_text(row)
