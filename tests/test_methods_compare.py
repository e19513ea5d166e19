"""ebpm.compare: indexed trends and rank among peers chosen by rule; the house chart theme for users."""

from __future__ import annotations

import ebpm
import pandas as pd
import pytest
from ebpm.errors import EstimationError


def _towns() -> pd.DataFrame:
    # values chosen so the index and rank can be worked out by hand (see each assertion)
    rows = {
        "03201": ("盛岡市", [1000, 990, 970]),
        "03202": ("宮古市", [500, 450, 400]),
        "03203": ("大船渡市", [400, 400, 420]),
        "03205": ("花巻市", [950, 900, 880]),
        "04100": ("仙台市", [1100, 1150, 1200]),  # another prefecture
        "03000": ("岩手県", [3000, 2900, 2800]),  # prefecture total, never a peer
    }
    return pd.DataFrame(
        [
            {"code": code, "name": name, "year": year, "pop": v}
            for code, (name, values) in rows.items()
            for year, v in zip((2010, 2015, 2020), values, strict=True)
        ]
    )


def test_same_prefecture_index_and_rank_by_hand():
    res = ebpm.compare(_towns(), y="pop", unit="code", time="year", focus="03201",
                       peers="same_prefecture", names="name")  # fmt: skip
    # 盛岡市 970/1000 = 97.0; peers 宮古市 80.0, 大船渡市 105.0, 花巻市 880/950 = 92.63…
    assert res.estimate == pytest.approx(97.0)
    assert res.diagnostics["rank"] == 2  # below 大船渡市 only
    assert res.diagnostics["n_peers"] == 3
    assert res.diagnostics["peer_median"] == pytest.approx(100 * 880 / 950)
    assert res.grade == "D"
    text = res.summary_ja()
    assert "盛岡市" in text and "2010年を100" in text and "4団体" in text and "2位" in text


def test_population_band_and_listed_peers():
    data = _towns()
    band = ebpm.compare(data, y="pop", unit="code", time="year", focus="03201",
                        peers="population_band", size="pop", band=(0.9, 1.2))  # fmt: skip
    assert sorted(band.details["peers"]) == ["03205", "04100"]  # 950 and 1100 within 900–1200
    listed = ebpm.compare(data, y="pop", unit="code", time="year", focus="03201", peers=["04100"])
    assert listed.diagnostics["rank"] == 2  # 仙台市 109.1 > 97.0


def test_chart_has_theme_source_and_synthetic_lines():
    from ebpm.charts.core import to_svg

    res = ebpm.compare(_towns(), y="pop", unit="code", time="year", focus="03201",
                       peers="same_prefecture", names="name", source="国勢調査（総務省統計局）",
                       synthetic=True)  # fmt: skip
    svg = to_svg(res.chart())
    assert "盛岡市" in svg and "出典: 国勢調査（総務省統計局）" in svg and "模擬データ" in svg


def test_duplicate_rows_are_refused():
    data = pd.concat([_towns(), _towns().head(1)])
    with pytest.raises(EstimationError, match="同じ単位・時点"):
        ebpm.compare(data, y="pop", unit="code", time="year", focus="03201")


def test_house_theme_for_users():
    import altair as alt
    from ebpm.charts.core import to_svg

    assert ebpm.charts.theme() == "ebpm"
    assert alt.theme.active == "ebpm"
    frame = pd.DataFrame({"month": pd.to_datetime(["2023-04-01", "2023-10-01", "2024-04-01"]),
                          "visits": [14000, 12500, 11000]})  # fmt: skip
    svg = to_svg(alt.Chart(frame).mark_line().encode(x="month:T", y="visits:Q"))
    assert "2023年" in svg  # 年月 time axis
    assert "14,000" in svg or "12,000" in svg  # thousands separators
