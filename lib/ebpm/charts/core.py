"""The house Altair theme and offline rendering (SVG/PNG via vl-convert; never a CDN)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

THEME_NAME = "ebpm"
FONT = "BIZ UDPGothic, Noto Sans CJK JP, Noto Sans JP, Hiragino Sans, Yu Gothic, Meiryo, sans-serif"
# Okabe–Ito: distinguishable for the common colour-vision deficiencies
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]
SYNTHETIC_FOOTER = "※模擬データ。実在の記録ではない。"
FONT_DIRS = ["/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/noto", "/usr/share/fonts"]


def _theme() -> dict[str, Any]:
    return {
        "config": {
            "font": FONT,
            "background": "white",
            "view": {"continuousWidth": 560, "continuousHeight": 300, "stroke": None},
            "range": {"category": PALETTE},
            "mark": {"color": PALETTE[0]},
            "axis": {"labelFontSize": 12, "titleFontSize": 13, "gridColor": "#e5e5e5"},
            "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "bottom"},
            "title": {
                "fontSize": 16,
                "anchor": "start",
                "subtitleFontSize": 12,
                "subtitleColor": "#555",
            },
            # thousands separators, 4 significant digits, never 1e+4: 14,000 / 0.1235
            "numberFormat": ",.4~r",
            "timeFormat": "%Y年%-m月",  # 年月 in text marks and legends: 2023年4月
            "axisTemporal": {"format": "%Y年%-m月", "labelAngle": 0},  # and on time axes
        }
    }


@lru_cache(maxsize=1)
def enable_theme() -> str:
    """Register and enable the house theme once per process; return its name."""
    import altair as alt

    alt.theme.register(THEME_NAME, enable=True)(_theme)
    return THEME_NAME


def theme() -> str:
    """Use the house chart theme in your own Altair charts: Japanese font (BIZ UDPGothic),
    年月 time axes (2023年4月), thousands separators and a colour-blind-safe palette.

    The ebpm kernel (JupyterLab's 「ebpm (Python 3)」) turns it on by itself after ``import ebpm``;
    elsewhere call ``ebpm.charts.theme()`` once. Returns the theme name.

    Examples
    --------
    >>> import ebpm.charts
    >>> ebpm.charts.theme()
    'ebpm'
    """
    return enable_theme()


def format_man(value: float) -> str:
    """Format a count in 万/億 where apt: 285270 -> '28.5万', 1.2e8 -> '1.2億'."""
    if value is None:
        return "—"
    a = abs(value)
    if a >= 1e8:
        return f"{value / 1e8:,.3g}億"
    if a >= 1e4:
        return f"{value / 1e4:,.3g}万"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.3g}"


def with_footer(chart, *, source: str | None = None, synthetic: bool = False, width: int = 560):
    """Add the source line and, for 模擬データ, the synthetic notice under a chart (``width`` px wide)."""
    lines = []
    if source:
        lines.append(f"出典: {source}")
    if synthetic:
        lines.append(SYNTHETIC_FOOTER)
    if not lines:
        return chart
    return _append_caption(chart, lines, width=width)


def _append_caption(chart, lines: list[str], width: int = 560):
    import altair as alt

    caption = (
        alt.Chart(alt.Data(values=[{"t": t, "i": i} for i, t in enumerate(lines)]))
        .mark_text(align="left", baseline="top", fontSize=11, color="#555", font=FONT)
        .encode(
            text=alt.Text("t:N"),
            x=alt.XValue(0),
            y=alt.Y("i:O", axis=None),
        )
        .properties(height=16 * len(lines), width=width)
    )
    return alt.vconcat(chart, caption, spacing=4)


@lru_cache(maxsize=1)
def _register_fonts() -> None:
    import vl_convert as vlc

    for folder in FONT_DIRS:
        if Path(folder).is_dir():
            vlc.register_font_directory(folder)


@lru_cache(maxsize=16)
def _svg_of(spec_text: str) -> str:
    """SVG of a Vega-Lite spec; identical specs (the same map in every 町字 report of a batch on a
    reused kernel) are rendered once. The key is the whole spec, data included, so nothing differs."""
    import vl_convert as vlc

    _register_fonts()
    return vlc.vegalite_to_svg(spec_text)


# A constant chart with Japanese text in the house font: rendering it once starts vl-convert's engine and
# loads the fonts' glyph tables, which otherwise costs the first chart of a report about a second.
_WARMUP_SPEC = json.dumps(
    {
        "data": {"values": [{"x": 1, "t": "盛岡市 1,234人"}]},
        "mark": {"type": "text", "font": FONT},
        "encoding": {"x": {"field": "x", "type": "quantitative"}, "text": {"field": "t"}},
    },
    ensure_ascii=False,
)


def warm_renderer() -> None:
    """Register the fonts and render a constant chart once, so the first real chart is not slower.

    Used by warm spare kernels (``ebpm.report.warm``) and by the kernels a run or batch pre-starts
    (``ebpm.report.runner.warmup_source``); the chart holds no data of any report.
    """
    import vl_convert as vlc

    _register_fonts()
    vlc.vegalite_to_svg(_WARMUP_SPEC)


def to_svg(chart) -> str:
    """Render a chart to an SVG string offline (Japanese fonts registered; cached by spec)."""
    enable_theme()
    return _svg_of(chart.to_json())


def to_png(chart, scale: float = 2.0) -> bytes:
    """Render a chart to PNG bytes offline."""
    import vl_convert as vlc

    enable_theme()
    _register_fonts()
    return vlc.vegalite_to_png(chart.to_json(), scale=scale)
