"""Offline maps: Iwate municipality and prefecture choropleths and small-area points, with the credit line.

The boundaries are the TopoJSON files copied into ``data/raw/geo_*`` (国土数値情報 N03, via
smartnews-smri/japan-topography). They are inlined into the chart (no URL, so vl-convert never fetches
anything) and joined to the planner's frame on the 5-digit 団体コード (``N03_007``) or, for
prefectures, on the 2-digit prefecture code. Every map carries the MLIT credit line under it.

Polygon orientation: d3-geo (Vega) reads a ring that winds counter-clockwise as "the whole sphere
except this polygon", so GeoJSON that follows RFC 7946 (exterior rings counter-clockwise) paints the
whole frame under a spherical projection. The shipped TopoJSON renders as it is; any other GeoJSON goes
through :func:`orient_features` (exterior rings clockwise, holes counter-clockwise) before charting.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from typing import Any

from ebpm.config import paths
from ebpm.errors import ParameterError

__all__ = [
    "MAP_CREDIT",
    "SMALLAREA_CREDIT",
    "choropleth",
    "boundaries",
    "orient_features",
    "points_map",
]

MAP_CREDIT = "「国土数値情報（行政区域データ）」（国土交通省）を加工して作成"
SMALLAREA_CREDIT = (
    "出典：政府統計の総合窓口(e-Stat)、平成27年国勢調査 町丁・字等別境界データを加工して作成"
)

_LEVELS: dict[str, dict[str, str]] = {
    "municipality": {
        "folder": "geo_iwate_municipalities",
        "file": "topojson_s0010_N03-21_03_210101.json",
        "object": "N03-21_03_210101",
        "key": "N03_007",
        "name": "N03_004",
        "title_ja": "岩手県の市町村（2021年1月1日の境界）",
    },
    "prefecture": {
        "folder": "geo_japan_prefectures",
        "file": "smartnews_topojson_s0001_prefectures.json",
        "object": "prefectures",
        "key": "code",  # added here from the code table (the file carries names only)
        "name": "N03_001",
        "title_ja": "全国の都道府県",
    },
}


@lru_cache(maxsize=4)
def _topology(level: str) -> str:
    """The TopoJSON of a level as text (prefectures get a 2-digit ``code`` property added)."""
    if level not in _LEVELS:
        raise ParameterError(
            f"地図の単位『{level}』は使えません（{', '.join(_LEVELS)}）。", parameter="level"
        )
    spec = _LEVELS[level]
    path = paths().raw / spec["folder"] / spec["file"]
    if not path.exists():
        raise ParameterError(
            f"境界データ {spec['folder']}/{spec['file']} がありません（data/raw を確認してください）。",
            file=str(path),
        )
    topo = json.loads(path.read_text(encoding="utf-8"))
    if level == "prefecture":
        import csv

        table = paths().raw / spec["folder"] / "dataofjapan_prefectures.csv"
        with table.open(encoding="utf-8") as fh:
            codes = {row["name-ja"]: f"{int(row['id']):02d}" for row in csv.DictReader(fh)}
        for geom in topo["objects"][spec["object"]]["geometries"]:
            props = geom.setdefault("properties", {})
            props["code"] = codes.get(props.get("N03_001"), "")
    return json.dumps(topo, ensure_ascii=False, separators=(",", ":"))


def boundaries(level: str = "municipality") -> dict[str, str]:
    """Codes and names of the features of a boundary set.

    Parameters
    ----------
    level : {"municipality", "prefecture"}
        ``municipality``: Iwate's 33 municipalities keyed by the 5-digit code (``03201`` = 盛岡市).
        ``prefecture``: the 47 prefectures keyed by the 2-digit code (``03`` = 岩手県).

    Returns
    -------
    dict
        code -> Japanese name.
    """
    spec = _LEVELS.get(level) or {}
    topo = json.loads(_topology(level))
    return {
        g["properties"][spec["key"]]: g["properties"][spec["name"]]
        for g in topo["objects"][spec["object"]]["geometries"]
    }


def _ring_area(ring: list[list[float]]) -> float:
    """Signed shoelace area in lon/lat: positive when the ring winds counter-clockwise."""
    total = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
        total += x1 * y2 - x2 * y1
    return total / 2.0


def orient_features(geojson: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of a GeoJSON object whose rings wind the way d3-geo (Vega) expects.

    Exterior rings become clockwise and holes counter-clockwise (the reverse of RFC 7946), so a
    spherical projection draws the polygon and not the rest of the globe. The same fix as
    ``shapely.orient_polygons(exterior_cw=True)``, without the dependency.

    Parameters
    ----------
    geojson : dict
        A FeatureCollection, Feature or geometry.

    Returns
    -------
    dict
    """

    def fix_polygon(rings):
        out = []
        for i, ring in enumerate(rings):
            ccw = _ring_area(ring) > 0
            want_ccw = i > 0
            out.append(list(reversed(ring)) if ccw != want_ccw else ring)
        return out

    def fix_geometry(geom):
        if geom is None:
            return geom
        kind = geom.get("type")
        if kind == "Polygon":
            geom["coordinates"] = fix_polygon(geom["coordinates"])
        elif kind == "MultiPolygon":
            geom["coordinates"] = [fix_polygon(p) for p in geom["coordinates"]]
        elif kind == "GeometryCollection":
            for g in geom.get("geometries", []):
                fix_geometry(g)
        return geom

    out = copy.deepcopy(geojson)
    if out.get("type") == "FeatureCollection":
        for feat in out.get("features", []):
            fix_geometry(feat.get("geometry"))
    elif out.get("type") == "Feature":
        fix_geometry(out.get("geometry"))
    else:
        fix_geometry(out)
    return out


def _geo_data(level: str):
    """The boundaries as inline data: the TopoJSON *text*, which Vega-Lite parses by its format.

    Passed as one string, not as a parsed dict: Altair deep-copies and walks every nested list of
    a dict value each time a chart is layered or serialised (about 870,000 calls for Iwate's
    municipalities, 4–5 s per map), while a string is copied as one value (the map renders in
    about 0.5 s, the same SVG).
    """
    import altair as alt

    spec = _LEVELS[level]
    return alt.Data(
        values=_topology(level),
        format=alt.DataFormat(type="topojson", feature=spec["object"]),
    )


def _normalise_codes(frame, code: str, level: str):
    import pandas as pd

    width = 5 if level == "municipality" else 2
    codes = frame[code].astype("string").str.strip()
    if level == "municipality":
        codes = codes.str.zfill(5).str.slice(0, 5)  # 6-digit codes with the check digit too
    else:
        codes = codes.str.zfill(2).str.slice(0, 2)
    out = pd.DataFrame(frame).copy()
    out["_code"] = codes.astype(object)
    known = set(boundaries(level))
    unknown = sorted(set(out["_code"].dropna()) - known)
    if unknown:
        raise ParameterError(
            f"列『{code}』に境界データにない{width}桁のコードがあります: {', '.join(unknown[:5])}"
            f"（使えるのは {level == 'municipality' and '岩手県の市町村コード（例: 03201）' or '都道府県コード 01〜47'}）。",
            column=code,
        )
    return out


def _vl_type(series) -> str:
    import pandas as pd

    return "Q" if pd.api.types.is_numeric_dtype(series) else "N"


def _credit_lines(source: str | None, synthetic: bool, extra: list[str] | None = None) -> list[str]:
    from ebpm.charts.core import SYNTHETIC_FOOTER

    lines = []
    if source:
        lines.append(f"出典: {source}")
    lines.append(f"地図: {MAP_CREDIT}")
    lines += extra or []
    if synthetic:
        lines.append(SYNTHETIC_FOOTER)
    return lines


def choropleth(
    frame,
    *,
    code: str,
    value: str,
    level: str = "municipality",
    title: str | None = None,
    value_title: str | None = None,
    unit: str = "",
    diverging: bool = False,
    scheme: str | None = None,
    tooltip: list[str] | None = None,
    source: str | None = None,
    synthetic: bool | None = None,
    width: int = 520,
    height: int = 520,
):
    """A choropleth of Iwate's municipalities or of Japan's prefectures, offline, with the credit line.

    Parameters
    ----------
    frame : DataFrame
        One row per area.
    code : str
        Column with the area code: the 5-digit 団体コード (``"03201"``; a 6-digit code with the
        check digit is cut to 5) for ``level="municipality"``, or the 2-digit prefecture code for
        ``level="prefecture"``. Codes are read as text.
    value : str
        Numeric column to colour by.
    level : {"municipality", "prefecture"}
        Boundary set: Iwate's 33 municipalities, or the 47 prefectures.
    title, value_title, unit : str, optional
        Chart title, legend title (defaults to the column title) and unit shown in the legend.
    diverging : bool
        Use a diverging scheme centred on 0 (for changes); otherwise a sequential one.
    scheme : str, optional
        A Vega colour scheme name overriding the default.
    tooltip : list of str, optional
        Extra columns for the tooltip.
    source : str, optional
        Source line of the values (printed above the map credit).
    synthetic : bool, optional
        Add the 模擬データ notice; defaults to ``frame.attrs["synthetic"]``.
    width, height : int
        Size in pixels.

    Returns
    -------
    altair.VConcatChart
        The map with the source, the 国土数値情報 credit and (if any) the 模擬データ notice under it.
        Areas without a value are drawn grey.

    Raises
    ------
    ParameterError
        A code that is not in the boundary set, or a missing column.
    """
    import altair as alt

    from ebpm.charts.core import FONT, _append_caption, enable_theme

    enable_theme()
    from ebpm.errors import missing_column

    for parameter, col in [
        ("code", code),
        ("value", value),
        *(("tooltip", t) for t in tooltip or []),
    ]:
        if col not in frame.columns:
            raise missing_column(frame, parameter, col)
    if synthetic is None:
        synthetic = bool(getattr(frame, "attrs", {}).get("synthetic", False))
    _topology(level)  # a Japanese error for an unknown level or a missing file
    spec = _LEVELS[level]
    data = _normalise_codes(frame, code, level)
    data = data[["_code", value, *[c for c in (tooltip or []) if c != value]]]
    legend_title = value_title or value
    if unit:
        legend_title = f"{legend_title}（{unit}）"
    if diverging:
        m = float(data[value].abs().max() or 1.0)
        scale = alt.Scale(scheme=scheme or "redblue", domain=[-m, m], reverse=True)
    else:
        scale = alt.Scale(scheme=scheme or "blues")
    key = f"properties.{spec['key']}"
    name = f"properties.{spec['name']}"
    projection = {"type": "mercator"}
    base = (
        alt.Chart(_geo_data(level))
        .mark_geoshape(fill="#dddddd", stroke="white", strokeWidth=0.6)
        .encode(tooltip=[alt.Tooltip(f"{name}:N", title="名称")])
        .project(**projection)
    )
    fields = [value, *[c for c in (tooltip or []) if c != value]]
    layer = (
        alt.Chart(_geo_data(level))
        .transform_lookup(lookup=key, from_=alt.LookupData(data=data, key="_code", fields=fields))
        .transform_filter(f"isValid(datum[{json.dumps(value)}])")
        .mark_geoshape(stroke="white", strokeWidth=0.6)
        .encode(
            color=alt.Color(
                f"{value}:Q", scale=scale, title=legend_title, legend=alt.Legend(orient="right")
            ),
            tooltip=[alt.Tooltip(f"{name}:N", title="名称")]
            + [alt.Tooltip(f"{c}:{_vl_type(data[c])}") for c in fields],
        )
        .project(**projection)
    )
    chart = (base + layer).properties(width=width, height=height)
    if title:
        chart = chart.properties(title=alt.Title(title, font=FONT))
    return _append_caption(chart, _credit_lines(source, synthetic))


def points_map(
    frame,
    *,
    lon: str = "lon",
    lat: str = "lat",
    size: str | None = None,
    color: str | None = None,
    outline: str = "03201",
    label: str | None = None,
    title: str | None = None,
    size_title: str | None = None,
    color_title: str | None = None,
    diverging: bool = False,
    tooltip: list[str] | None = None,
    source: str | None = None,
    synthetic: bool | None = None,
    width: int = 520,
    height: int = 520,
):
    """Points (for example small-area centroids) over a municipality outline, offline, with credits.

    Parameters
    ----------
    frame : DataFrame
        One row per point with longitude and latitude in degrees (JGD2011 ≈ WGS84).
    lon, lat : str
        Coordinate columns.
    size, color : str, optional
        Numeric columns for the circle area and colour.
    outline : str
        5-digit code of the Iwate municipality drawn under the points (default 盛岡市 ``03201``).
    label : str, optional
        Column used as the name in the tooltip.
    title, size_title, color_title : str, optional
        Chart and legend titles.
    diverging : bool
        Colour on a diverging scheme centred on 0.
    tooltip : list of str, optional
        Extra tooltip columns.
    source : str, optional
        Source line of the points; the small-area credit is added when it is not given.
    synthetic : bool, optional
        Add the 模擬データ notice; defaults to ``frame.attrs["synthetic"]``.
    width, height : int
        Size in pixels.

    Returns
    -------
    altair.VConcatChart
    """
    import altair as alt

    from ebpm.charts.core import FONT, _append_caption, enable_theme

    enable_theme()
    from ebpm.errors import missing_column

    cols = [lon, lat, size, color, label, *(tooltip or [])]
    named = [("lon", lon), ("lat", lat), ("size", size), ("color", color), ("label", label)]
    named += [("tooltip", t) for t in tooltip or []]
    for parameter, col in named:
        if col and col not in frame.columns:
            raise missing_column(frame, parameter, col)
    names = boundaries("municipality")
    if outline not in names:
        raise ParameterError(
            f"outline『{outline}』は岩手県の市町村コードではありません（例: 03201＝盛岡市）。",
            parameter="outline",
        )
    if synthetic is None:
        synthetic = bool(getattr(frame, "attrs", {}).get("synthetic", False))
    keep = list(dict.fromkeys(c for c in cols if c))
    data = frame[keep].dropna(subset=[lon, lat])
    projection = {"type": "mercator"}
    base = (
        alt.Chart(_geo_data("municipality"))
        .transform_filter(f"datum.properties.N03_007 == {json.dumps(outline)}")
        .mark_geoshape(fill="#eeeeee", stroke="#888888", strokeWidth=0.8)
        .encode(tooltip=[alt.Tooltip("properties.N03_004:N", title="名称")])
        .project(**projection)
    )
    enc: dict[str, Any] = {
        "longitude": alt.Longitude(f"{lon}:Q"),
        "latitude": alt.Latitude(f"{lat}:Q"),
        "tooltip": [alt.Tooltip(c) for c in [label, size, color, *(tooltip or [])] if c],
    }
    if size:
        enc["size"] = alt.Size(
            f"{size}:Q",
            title=size_title or size,
            scale=alt.Scale(range=[4, 300]),
            legend=alt.Legend(orient="right"),
        )
    if color:
        if diverging:
            m = float(data[color].abs().max() or 1.0)
            cscale = alt.Scale(scheme="redblue", domain=[-m, m], reverse=True)
        else:
            cscale = alt.Scale(scheme="viridis")
        enc["color"] = alt.Color(
            f"{color}:Q",
            title=color_title or color,
            scale=cscale,
            legend=alt.Legend(orient="right"),
        )
    points = (
        alt.Chart(data)
        .mark_circle(opacity=0.75, stroke="white", strokeWidth=0.3)
        .encode(**enc)
        .project(**projection)
    )
    chart = (base + points).properties(width=width, height=height)
    if title:
        chart = chart.properties(title=alt.Title(title, font=FONT))
    extra = [] if source else [SMALLAREA_CREDIT]
    return _append_caption(chart, _credit_lines(source, synthetic, extra))
