"""The house Altair theme and offline rendering (SVG/PNG via vl-convert; never a CDN)."""

from __future__ import annotations

import functools
import json
import weakref
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


# the source and 模擬データ lines under a chart look the same in both forms (with_footer, footer_layer)
CAPTION_TEXT = {"align": "left", "baseline": "top", "fontSize": 11, "color": "#555", "font": FONT}
CAPTION_LINE_PX = 16


def footer_lines(*, source: str | None = None, synthetic: bool = False) -> list[str]:
    """The lines under a chart: the source (出典) and, for 模擬データ, the synthetic notice."""
    lines = []
    if source:
        lines.append(f"出典: {source}")
    if synthetic:
        lines.append(SYNTHETIC_FOOTER)
    return lines


def with_footer(chart, *, source: str | None = None, synthetic: bool = False, width: int = 560):
    """Add the source line and, for 模擬データ, the synthetic notice under a chart (``width`` px wide)."""
    lines = footer_lines(source=source, synthetic=synthetic)
    if not lines:
        return chart
    return _append_caption(chart, lines, width=width)


def footer_layer(lines: list[str], *, y: int):
    """The footer as a text layer ``y`` px below the top of a layered chart's plot.

    For a chart whose axis depth is known (the KPI chart's two-line year labels), this draws the same
    lines as :func:`with_footer` inside the one view instead of in a second view under it: Altair
    builds it in about half the time and Vega draws it about 15 ms faster.
    """
    import altair as alt

    return (
        alt.Chart(alt.Data(values=[{"t": "\n".join(lines)}]))
        .mark_text(**CAPTION_TEXT, lineBreak="\n", lineHeight=CAPTION_LINE_PX)
        .encode(text=alt.Text("t:N"), x=alt.XValue(0), y=alt.YValue(y))
    )


def _append_caption(chart, lines: list[str], width: int = 560):
    import altair as alt

    caption = (
        alt.Chart(alt.Data(values=[{"t": t, "i": i} for i, t in enumerate(lines)]))
        .mark_text(**CAPTION_TEXT)
        .encode(
            text=alt.Text("t:N"),
            x=alt.XValue(0),
            y=alt.Y("i:O", axis=None),
        )
        .properties(height=CAPTION_LINE_PX * len(lines), width=width)
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


# charts made by ebpm's own chart functions (id -> weak reference); see `house`
_HOUSE: dict[int, weakref.ref] = {}


def house(chart):
    """Mark ``chart`` as made by one of ebpm's chart functions, and return it.

    Those functions are tested to build specs that Altair's Vega-Lite schema accepts
    (tests/test_chart_channels.py validates every one), so :func:`spec_json` skips the schema
    validation for them: about 70 ms a chart, a third of the time a report spends on Altair. A chart a
    planner builds (or a house chart changed with ``.properties()``, which returns a new chart) is
    still validated, so its mistakes get Altair's messages.
    """
    key = id(chart)
    _HOUSE[key] = weakref.ref(chart, lambda _ref, key=key: _HOUSE.pop(key, None))
    return chart


def house_chart(build):
    """Decorator for ebpm's chart functions: build without Altair's checks, return a :func:`house` chart.

    Altair (in its default debug mode) validates some objects as they are made (each ``alt.Data`` and
    mark) and the whole spec again when it is rendered; a function whose output the tests validate
    against the schema pays neither. Its argument checks and Japanese errors are its own and stay.
    """

    @functools.wraps(build)
    def wrapper(*args, **kwargs):
        from altair.utils.schemapi import debug_mode

        with debug_mode(False):
            chart = build(*args, **kwargs)
        return house(chart)

    return wrapper


def is_house(chart) -> bool:
    """Whether ``chart`` is the very object an ebpm chart function returned (:func:`house`)."""
    ref = _HOUSE.get(id(chart))
    return ref is not None and ref() is chart


def spec_json(chart) -> str:
    """The chart's Vega-Lite spec as JSON text; validated unless it is a house chart."""
    enable_theme()
    return chart.to_json(validate=not is_house(chart))


def to_svg(chart) -> str:
    """Render a chart to an SVG string offline (Japanese fonts registered; cached by spec).

    A house chart that was changed in place into something Vega cannot draw gets Altair's own
    validation message, as any other chart does.
    """
    text = spec_json(chart)
    try:
        return _svg_of(text)
    except Exception:
        if is_house(chart):
            chart.to_json(validate=True)  # raises Altair's message when the spec is invalid
        raise


def to_png(chart, scale: float = 2.0) -> bytes:
    """Render a chart to PNG bytes offline."""
    import vl_convert as vlc

    _register_fonts()
    return vlc.vegalite_to_png(spec_json(chart), scale=scale)
