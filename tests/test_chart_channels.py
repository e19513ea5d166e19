"""Charts pass Altair channel objects, never shorthands: Altair 6.3 turns a shorthand string, a list of
them or an ``alt.value(...)`` dict into a channel through ``SchemaBase.from_dict``, which rebuilds
``_FromDict`` and json-hashes every schema class on each call (~10 ms a channel; vega/altair#3547,
issue 13). ``alt.Y("target:Q")`` or ``alt.XValue(0)`` draw the same spec in well under a millisecond."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

# the dashboard needs the full build; share the worker that builds it (conftest full_curated)
pytestmark = pytest.mark.xdist_group("full_curated")

LIB = Path(__file__).resolve().parents[1] / "lib" / "ebpm"
ROOT = LIB.parents[1]
# keyword arguments of str.encode / bytes codecs, not Vega-Lite channels
NOT_CHANNELS = {"encoding", "errors"}


def _is_alt_call(node: ast.AST, names: set[str]) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in names
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "alt"
    )


def _problem(value: ast.AST) -> str | None:
    """Why a channel value makes Altair go through from_dict, or None when it is a channel object."""
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return f"文字列の省略記法 {value.value!r}"
    if isinstance(value, ast.JoinedStr):
        return "f文字列の省略記法"
    if isinstance(value, ast.Dict):
        return "辞書"
    if _is_alt_call(value, {"value"}):
        return "alt.value(...)"
    if _is_alt_call(value, {"condition"}):
        return "alt.condition(...)（辞書を返す）"
    if isinstance(value, ast.IfExp):
        return _problem(value.body) or _problem(value.orelse)
    if isinstance(value, (ast.List, ast.Tuple)):
        for element in value.elts:
            inner = element.value if isinstance(element, ast.Starred) else element
            why = _problem(inner)
            if why:
                return f"リストの要素に{why}"
    if isinstance(value, ast.ListComp) and isinstance(
        value.elt, (ast.Name, ast.Constant, ast.JoinedStr)
    ):
        return "リスト内包の要素に列名（文字列）"
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):  # [...] + [...]
        return _problem(value.left) or _problem(value.right)
    return None


def _spread_values(func: ast.AST, name: str) -> list[tuple[str, ast.AST]]:
    """Values put into a dict ``name`` that is passed as ``encode(**name)`` in the same function."""
    found = []
    for node in ast.walk(func):
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id == name and isinstance(value, ast.Dict):
                for key, val in zip(value.keys, value.values, strict=True):
                    found.append((key.value if isinstance(key, ast.Constant) else "?", val))
            elif (
                isinstance(target, ast.Subscript)
                and isinstance(target.value, ast.Name)
                and target.value.id == name
            ):
                key = target.slice
                found.append((key.value if isinstance(key, ast.Constant) else "?", value))
    return found


def shorthand_channels(source: str, filename: str) -> list[str]:
    """``file:line`` messages for every ``.encode(...)`` channel given as a shorthand."""
    tree = ast.parse(source, filename=filename)
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    out = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "encode"
        ):
            continue
        for kw in node.keywords:
            if kw.arg in NOT_CHANNELS:
                continue
            if kw.arg is None and isinstance(kw.value, ast.Name):
                scope = node
                while scope in parents and not isinstance(
                    scope, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)
                ):
                    scope = parents[scope]
                pairs = _spread_values(scope, kw.value.id)
            elif kw.arg is None and isinstance(kw.value, ast.Dict):
                pairs = [
                    (k.value if isinstance(k, ast.Constant) else "?", v)
                    for k, v in zip(kw.value.keys, kw.value.values, strict=True)
                ]
            else:
                pairs = [(kw.arg, kw.value)]
            for channel, value in pairs:
                why = _problem(value)
                if why:
                    out.append(f"{filename}:{value.lineno}: encode の {channel}= が{why}")
    return out


def test_the_check_sees_each_kind_of_shorthand():
    bad = """
def f(alt, base, enc, name):
    base.encode(y="target:Q")
    base.encode(x=f"{name}:Q")
    base.encode(color={"value": "#555"})
    base.encode(tooltip=[alt.Tooltip("a:N"), "b:Q"])
    base.encode(x=alt.value(0))
    base.encode(shape=alt.condition("datum.a", alt.value("circle"), alt.value("square")))
    base.encode(x=alt.X("a") if name else alt.value(0))
    enc = {"y": alt.Y("b:Q"), "tooltip": ["c"]}
    enc["size"] = "d:Q"
    base.encode(**enc)
    spec: dict = {"tooltip": [c for c in ("a", "b") if c]}
    base.encode(**spec)
"""
    found = shorthand_channels(bad, "bad.py")
    assert [m.split(":")[1] for m in found] == [str(n) for n in (3, 4, 5, 6, 7, 8, 9, 10, 11, 13)]
    good = """
def f(alt, base, enc):
    base.encode(y=alt.Y("target:Q"), x=alt.XValue(0), tooltip=[alt.Tooltip("a:N")])
    base.encode(shape=alt.ShapeValue("circle", condition={"test": "datum.a", "value": "square"}))
    "text".encode("utf-8", errors="strict")
"""
    assert shorthand_channels(good, "good.py") == []


def test_lib_charts_pass_channel_objects():
    problems = []
    for path in sorted(LIB.rglob("*.py")):
        problems += shorthand_channels(
            path.read_text(encoding="utf-8"), str(path.relative_to(ROOT))
        )
    assert not problems, (
        "図のチャンネルに省略記法が渡されています。alt.X(...)・alt.Tooltip(...)・alt.XValue(...) などの"
        "チャンネルオブジェクトにしてください（省略記法は Altair の from_dict を通り、1チャンネル約10ミリ秒"
        "かかる）:\n" + "\n".join(problems)
    )


def _small_panel(seed: int = 0) -> pd.DataFrame:
    """30 units × 8 periods, half adopting at period 4 (staggered never-treated comparison)."""
    rng = np.random.default_rng(seed)
    rows = []
    for unit in range(30):
        first = 4 if unit < 15 else np.nan
        for time in range(8):
            treated = not np.isnan(first) and time >= first
            y = 10 + 0.2 * time + unit % 5 + 1.5 * treated + rng.normal(0, 1)
            rows.append(
                {
                    "unit": f"u{unit:02d}",
                    "time": time,
                    "first": first,
                    "treat": float(unit < 15),
                    "post": float(time >= 4),
                    "y": y,
                }
            )
    return pd.DataFrame(rows)


def test_building_charts_never_goes_through_from_dict(with_curated, monkeypatch):
    import ebpm
    from altair.utils import schemapi
    from ebpm.data.kpi import DX_KPIS
    from ebpm.report.kpi import dx_dashboard
    from ebpm.studies.charts import trend_chart

    calls = []
    original = schemapi._FromDict.__init__

    def counted(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(schemapi._FromDict, "__init__", counted)
    board = dx_dashboard(
        list(DX_KPIS),
        start_fy=2021,
        end_fy=2025,
        projection_to_fy=2027,
    )
    charts = board.charts()
    assert len(charts) == 4
    panel = _small_panel()
    two = panel[panel["time"].isin([2, 6])]
    charts += [
        ebpm.did(two, y="y", treat="treat", post="post").chart(),
        ebpm.event_study(panel, y="y", unit="unit", time="time", first_treated="first").chart(),
        ebpm.describe(
            panel.assign(g=panel["treat"].map({0.0: "比較群", 1.0: "介入群"})), "y", by="g"
        ).chart(),
    ]
    series = pd.DataFrame({"年": [2023, 2024, 2025], "人口": [10, 11, 12], "系列": "実績"})
    charts.append(trend_chart(series, x="年", y="人口", series="系列", title="人口", y_title="人"))
    from ebpm.charts.core import is_house

    for chart in charts:
        # house charts skip Altair's checks when built and drawn (charts.core.house_chart): this
        # full schema validation is where their specs are checked
        assert is_house(chart)
        assert chart.to_dict(validate=True)["$schema"]
    assert len(calls) == 0, (
        f"図の作成で Altair の from_dict が {len(calls)} 回呼ばれました（省略記法・alt.value・辞書の"
        "チャンネル）。チャンネルオブジェクトを渡してください"
    )
