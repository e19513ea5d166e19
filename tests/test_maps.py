"""Maps (ebpm.charts.maps): offline SVG with every municipality drawn, the N03 credit line, ring orientation."""

from __future__ import annotations

import socket

import pandas as pd
import pytest
from ebpm.charts import maps
from ebpm.charts.core import to_svg
from ebpm.errors import ParameterError


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test (maps must render from inlined data)."""

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted while rendering a map")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _labels(svg: str) -> set[str]:
    import re

    return set(re.findall(r'aria-label="名称: ([^";]+)"[^>]*aria-roledescription="geoshape"', svg))


def test_municipality_choropleth_renders_every_municipality_offline(no_network):
    names = maps.boundaries("municipality")
    assert len(names) == 33 and names["03201"] == "盛岡市"
    # a 6-digit code with the check digit (032018) joins like its 5-digit form; 2 areas left without a value
    codes = [c for c in names if c not in ("03202", "03203")]
    frame = pd.DataFrame({"code": [c + "0" for c in codes], "v": range(len(codes))})
    frame.loc[0, "code"] = "032018"
    svg = to_svg(
        maps.choropleth(frame, code="code", value="v", title="テスト", source="テスト出典")
    )
    assert _labels(svg) == set(names.values())  # every municipality is a geoshape path
    assert maps.MAP_CREDIT in svg and "出典: テスト出典" in svg
    # orientation: no geoshape fills the whole 520×520 view (a wrongly wound ring would)
    assert 'd="M0,0h520v520h-520Z"' not in svg.split("geoshape", 1)[1]


def test_prefecture_choropleth_keys_on_two_digit_codes(no_network):
    names = maps.boundaries("prefecture")
    assert len(names) == 47 and names["03"] == "岩手県" and names["13"] == "東京都"
    frame = pd.DataFrame({"pref": list(names), "v": range(47)})
    svg = to_svg(maps.choropleth(frame, code="pref", value="v", level="prefecture"))
    assert _labels(svg) == set(names.values())
    assert maps.MAP_CREDIT in svg


def test_points_map_carries_both_credits(no_network):
    frame = pd.DataFrame(
        {"lon": [141.15, 141.2], "lat": [39.70, 39.75], "n": [100, 200], "name": ["内丸", "X"]}
    )
    frame.attrs["synthetic"] = True
    svg = to_svg(maps.points_map(frame, size="n", label="name"))
    assert maps.MAP_CREDIT in svg and maps.SMALLAREA_CREDIT in svg and "模擬データ" in svg
    assert _labels(svg) == {"盛岡市"}  # the outline


def test_unknown_codes_are_refused_in_japanese():
    with pytest.raises(ParameterError, match="99999"):
        maps.choropleth(pd.DataFrame({"c": ["99999"], "v": [1]}), code="c", value="v")
    with pytest.raises(ParameterError, match="地図の単位"):
        maps.choropleth(pd.DataFrame({"c": ["03"], "v": [1]}), code="c", value="v", level="town")


def test_orient_features_makes_exteriors_clockwise():
    # hand-checked: the unit square listed counter-clockwise (RFC 7946 order) has signed area +1
    ccw = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
    hole_cw = [[0.2, 0.2], [0.2, 0.8], [0.8, 0.8], [0.8, 0.2], [0.2, 0.2]]
    assert maps._ring_area(ccw) == 1.0
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Polygon", "coordinates": [ccw, hole_cw]},
            }
        ],
    }
    out = orient = maps.orient_features(fc)
    rings = orient["features"][0]["geometry"]["coordinates"]
    assert maps._ring_area(rings[0]) < 0 < maps._ring_area(rings[1])
    assert fc["features"][0]["geometry"]["coordinates"][0] == ccw  # the input is not modified
    assert out is not fc
