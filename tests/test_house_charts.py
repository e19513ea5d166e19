"""House charts (`ebpm.charts.core.house_chart`): ebpm's own chart functions skip Altair's schema checks
because these tests check their output against the Vega-Lite schema; a planner's chart, or a house chart
changed into something invalid, still gets Altair's own validation message."""

from __future__ import annotations

import re

import altair as alt
import pandas as pd
import pytest
from altair.utils.schemapi import SchemaValidationError
from ebpm.charts import core
from ebpm.charts.kpi import kpi_trend_chart

ACTUAL = pd.DataFrame({"fy": [2021, 2022, 2023], "value": [40.0, 52.5, 61.0]})
PROJECTION = pd.DataFrame(
    {"fy": [2024, 2025], "value": [70.0, 79.0], "lower": [64.0, 68.5], "upper": [76.0, 89.5]}
)


def _kpi(**kwargs):
    return kpi_trend_chart(
        ACTUAL, PROJECTION, label="オンライン化した手続の割合", unit="%", target=80.0, **kwargs
    )


def test_a_kpi_chart_is_a_house_chart_whose_spec_the_schema_accepts():
    chart = _kpi(synthetic=True)
    assert core.is_house(chart)
    spec = chart.to_dict(validate=True)  # Altair's full Vega-Lite schema check
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    # a changed copy is the planner's chart: validated again
    assert not core.is_house(chart.properties(width=300))


def test_the_house_spec_is_the_validated_spec():
    chart = _kpi(synthetic=True)
    assert core.spec_json(chart) == chart.to_json(validate=True)


def test_a_planners_invalid_chart_gets_altairs_message():
    bad = alt.Chart(pd.DataFrame({"a": [1]})).mark_point().encode(x=alt.X("a:Q", bin="yes"))
    assert not core.is_house(bad)
    with pytest.raises(SchemaValidationError):
        core.to_svg(bad)


def test_a_house_chart_changed_into_nonsense_gets_altairs_message():
    chart = _kpi()
    chart.layer[0].mark = {"type": "no_such_mark"}  # in place: still the house object
    assert core.is_house(chart)
    with pytest.raises(SchemaValidationError):
        core.to_svg(chart)


def test_footer_is_drawn_under_the_year_labels_inside_the_one_view():
    chart = _kpi(synthetic=True, height=240)
    spec = chart.to_dict()
    assert "vconcat" not in spec  # one view: the footer is a layer
    svg = core.to_svg(chart)
    assert core.SYNTHETIC_FOOTER in svg
    # the footer text sits (in plot coordinates) under the x-axis: its two label lines (12 px type,
    # 14 px apart) start 7 px under the plot and end about 36 px under it
    footer_y = float(
        re.search(r'aria-label="t: ※模擬データ[^"]*"[^>]*translate\(0,([\d.]+)\)', svg).group(1)
    )
    assert footer_y >= 240 + 36
    # and the drawing is tall enough to show it
    height = float(re.search(r'<svg[^>]*height="([\d.]+)"', svg).group(1))
    assert height > footer_y


def test_without_synthetic_data_there_is_no_footer():
    svg = core.to_svg(_kpi(synthetic=False))
    assert core.SYNTHETIC_FOOTER not in svg


def test_a_projection_without_actuals_still_draws():
    # no observed year in the chosen span: the projection stands alone (no bridge from an actual)
    chart = kpi_trend_chart(
        ACTUAL.iloc[0:0], PROJECTION, label="受講者数", unit="人", target=1000.0, synthetic=True
    )
    assert chart.to_dict(validate=True)["layer"]
    assert "令和6年度" in core.to_svg(chart)
