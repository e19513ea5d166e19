"""Tests for ebpm.disclosure.protect: primary/secondary suppression, the adversary, show() and the render gate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ebpm.disclosure import protect as dc
from ebpm.errors import DisclosureError
from scipy.optimize import linprog


# --------------------------------------------------------------------------- primary rules
@pytest.mark.parametrize(
    ("values", "threshold", "suppress_zero", "expected"),
    [
        ([0, 1, 9, 10, 11], 10, False, [False, True, True, False, False]),
        ([0, 1, 9, 10, 11], 10, True, [True, True, True, False, False]),
        ([2, 3, 4, 5], 3, False, [True, False, False, False]),
        ([np.nan, 5, 100], 10, False, [False, True, False]),
        ([9.5, 10.0], 10, False, [True, False]),
    ],
)
def test_small_count_mask(values, threshold, suppress_zero, expected):
    got = dc.small_count_mask(np.array(values, dtype=float), threshold, suppress_zero=suppress_zero)
    assert got.tolist() == expected


@pytest.mark.parametrize(
    ("contribs", "options", "expected"),
    [
        ([100, 1, 1, 1], {"dominance": (1, 0.85)}, dc.PRIMARY_DOMINANCE),  # 97% > 85%
        ([50, 40, 10, 10], {"dominance": (1, 0.85)}, None),  # 45%
        ([50, 40, 5, 5], {"dominance": (2, 0.85)}, dc.PRIMARY_DOMINANCE),  # 90%
        ([30, 30, 30, 10], {"dominance": (2, 0.85)}, None),  # 60%
        ([10, 5], {"dominance": (2, 0.85)}, dc.PRIMARY_SMALL),  # 2 contributors < 3
        ([10, 5], {"dominance": None, "min_contributors": 2}, None),
        # p% rule, p=10: remainder 100-60-35=5 < 6 -> sensitive; 100-50-30=20 >= 5 -> safe
        ([60, 35, 3, 2], {"dominance": None, "p_percent": 10}, dc.PRIMARY_DOMINANCE),
        ([50, 30, 10, 10], {"dominance": None, "p_percent": 10}, None),
        ([], {}, None),
        ([0, 0, 0], {}, None),
    ],
)
def test_dominance_reason(contribs, options, expected):
    got = dc.dominance_reason(contribs, **options)
    assert (got[0] if got else None) == expected


# --------------------------------------------------------------------------- secondary
@pytest.mark.parametrize(
    ("values", "primary", "expected_added"),
    [
        # one hidden cell: its row gets the smallest positive neighbour, its column too,
        # and the cell at their crossing closes the rectangle
        ([[3, 50, 20], [40, 45, 30], [60, 70, 80]], [(0, 0)], {(0, 2), (1, 0), (1, 2)}),
        # two hidden cells in one row, different columns: each column gets a complement
        ([[3, 4, 90], [40, 45, 30], [60, 70, 80]], [(0, 0), (0, 1)], {(1, 0), (1, 1)}),
        # zero is skipped when a positive complement exists
        ([[5, 0, 30], [0, 40, 50], [25, 35, 45]], [(0, 0)], {(0, 2), (2, 0), (2, 2)}),
    ],
)
def test_pair_complements(values, primary, expected_added):
    values = np.array(values, dtype=float)
    mask = np.zeros(values.shape, dtype=bool)
    for cell in primary:
        mask[cell] = True
    out = dc.pair_complements(values, mask, rows=True, cols=True)
    added = {(int(i), int(j)) for i, j in np.argwhere(out & ~mask)}
    assert added == expected_added
    assert all(out[i, :].sum() != 1 for i in range(out.shape[0]))
    assert all(out[:, j].sum() != 1 for j in range(out.shape[1]))


def test_suppress_frame_audit_and_totals():
    df = pd.DataFrame(
        {"area": ["北", "南", "東", "西"], "男": [3, 50, 40, 200], "女": [60, 45, 8, 180]},
    )
    res = dc.suppress(df, count_columns=["男", "女"], add_totals=True, table="demo")
    frame = res.frame
    assert frame.loc[0, "男"] == "x" and frame.loc[2, "女"] == "x"
    # totals are published with the original values
    assert frame.iloc[-1]["area"] == "計"
    assert (
        frame.iloc[-1]["男"] == 293 and frame.iloc[-1]["女"] == 293 and frame.iloc[-1]["計"] == 586
    )
    assert list(frame["計"][:4]) == [63, 95, 48, 380]
    assert list(res.audit.columns) == dc.AUDIT_COLUMNS
    assert set(res.audit["reason"]) <= set(dc.REASONS)
    primary = res.audit[res.audit["reason"] == dc.PRIMARY_SMALL]
    assert {(r, c) for r, c in zip(primary["row"], primary["column"], strict=True)} == {
        (0, "男"),
        (2, "女"),
    }
    assert res.info["suppressed"][dc.PRIMARY_SMALL] == 2
    assert res.info["n_suppressed"] == len(res.audit) == (frame == "x").sum().sum()
    # nothing published is a small count, and the audit carries no value
    published = pd.to_numeric(frame[["男", "女"]].stack(), errors="coerce").dropna()
    assert not ((published >= 1) & (published < 10)).any()
    assert "value" not in res.audit.columns


def test_zero_is_published_unless_asked():
    df = pd.DataFrame({"a": [0, 20, 30], "b": [40, 50, 60]})
    assert dc.suppress(df).n_suppressed == 0
    assert dc.suppress(df, suppress_zero=True).n_suppressed >= 2


def test_tiny_table_hides_margins_when_it_cannot_be_protected():
    df = pd.DataFrame({"a": [3, 4], "b": [5, 6]})
    res = dc.suppress(df)
    assert res.info["margins_hidden"]  # the caller is told not to publish the totals
    assert (res.frame == "x").all().all()
    with_totals = dc.suppress(df, add_totals=True).frame
    # small totals are hidden as well; only the grand total (18) can be shown
    assert with_totals.loc["計", "計"] == 18
    assert (with_totals.drop(index="計", columns="計") == "x").all().all()
    assert (with_totals.loc[[0, 1], "計"] == "x").all() and (
        with_totals.loc["計", ["a", "b"]] == "x"
    ).all()


def test_total_column_and_row_in_the_table_are_recognised():
    # participants_total = sum of the age groups; the last row is the 計 row
    df = pd.DataFrame(
        {
            "area": ["北", "南", "東", "計"],
            "u60": [3, 40, 35, 78],
            "a60": [30, 45, 28, 103],
            "a70": [25, 8, 31, 64],
            "total": [58, 93, 94, 245],
        }
    )
    res = dc.suppress(df, count_columns=["u60", "a60", "a70", "total"])
    assert res.info["total_columns"] == ["total"] and res.info["total_rows"] == [3]
    frame = res.frame
    assert list(frame["total"]) == [58, 93, 94, 245]  # totals stay published
    assert list(frame.loc[3, ["u60", "a60", "a70"]]) == [78, 103, 64]
    assert frame.loc[0, "u60"] == "x" and frame.loc[1, "a70"] == "x"
    # the adversary with the published totals cannot pin any x
    values = df[["u60", "a60", "a70"]].iloc[:3].to_numpy(dtype=float)
    lines = _published_margins(values, rows=True, cols=True)
    published = frame[["u60", "a60", "a70"]].iloc[:3]
    assert not _attack_subtraction(published, lines)
    for lo, hi in _attack_lp(published, lines).values():
        assert hi - lo >= 10 - 1e-6 or hi - lo > 0.5


def test_small_total_is_hidden_with_complements():
    df = pd.DataFrame({"a": [2, 3, 1], "b": [40, 50, 60], "c": [30, 20, 70]})
    res = dc.suppress(df, add_totals=True)
    assert res.frame.loc["計", "a"] == "x"  # column total 6 is itself a small count
    published = pd.to_numeric(res.frame.stack(), errors="coerce").dropna()
    assert not ((published >= 1) & (published < 10)).any()
    # the other totals in the 計 row cannot give it back by subtraction from the grand total
    assert (res.frame.loc["計", ["b", "c"]] == "x").any()


def test_linked_columns_follow_small_counts():
    df = pd.DataFrame(
        {"n": [3, 40, 50, 60], "mean_age": [71.0, 45.2, 50.1, 39.9]}, index=list("ABCD")
    )
    res = dc.suppress(df, count_columns=["n"], linked_columns=["mean_age"])
    assert res.frame.loc["A", "mean_age"] == "x" and res.frame.loc["B", "mean_age"] == 45.2
    assert (res.audit["column"] == "mean_age").sum() == 1


def test_magnitudes_need_contributors_and_apply_dominance():
    df = pd.DataFrame({"sales": [1000.0, 500.0, 800.0]}, index=["商業", "工業", "農業"])
    with pytest.raises(DisclosureError, match="contributors"):
        dc.suppress(df, magnitude_columns=["sales"])
    contribs = {
        ("商業", "sales"): [900, 50, 50],  # 1 dominates
        ("工業", "sales"): [100, 100, 100, 100, 100],
        ("農業", "sales"): [200, 200, 200, 200],
    }
    res = dc.suppress(df, magnitude_columns=["sales"], contributors=contribs, dominance=(1, 0.85))
    reasons = dict(zip(res.audit["row"], res.audit["reason"], strict=True))
    assert reasons["商業"] == dc.PRIMARY_DOMINANCE
    assert reasons["工業"] == dc.SECONDARY  # smallest complement in the column


@pytest.mark.parametrize(
    ("options", "parameter"),
    [
        ({"threshold": 0}, "threshold"),
        ({"dominance": (0, 2.0)}, "dominance"),
        ({"p_percent": 150}, "p_percent"),
    ],
)
def test_bad_options_are_refused_in_japanese(options, parameter):
    with pytest.raises(DisclosureError) as err:
        dc.suppress(pd.DataFrame({"a": [1, 2]}), **options)
    assert err.value.parameter == parameter


# --------------------------------------------------------------------------- the adversary
def _published_margins(values: np.ndarray, rows: bool, cols: bool):
    lines = []
    n_rows, n_cols = values.shape
    if rows:
        lines += [([(i, j) for j in range(n_cols)], values[i, :].sum()) for i in range(n_rows)]
    if cols:
        lines += [([(i, j) for i in range(n_rows)], values[:, j].sum()) for j in range(n_cols)]
    return lines


def _attack_lp(published: pd.DataFrame, lines) -> dict:
    """Attacker: bounds of each x given published cells, published totals and x >= 0."""
    hidden = [
        (i, j)
        for i in range(published.shape[0])
        for j in range(published.shape[1])
        if published.iat[i, j] == "x"
    ]
    idx = {c: k for k, c in enumerate(hidden)}
    a_eq, b_eq = [], []
    for cells, total in lines:
        row = np.zeros(len(hidden))
        known = 0.0
        for c in cells:
            if c in idx:
                row[idx[c]] = 1
            else:
                known += float(published.iat[c])
        if row.any():
            a_eq.append(row)
            b_eq.append(total - known)
    out = {}
    for c, k in idx.items():
        obj = np.zeros(len(hidden))
        obj[k] = 1
        kw = {"bounds": [(0, None)] * len(hidden), "method": "highs"}
        if a_eq:
            kw.update(A_eq=np.array(a_eq), b_eq=np.array(b_eq))
        lo, hi = linprog(obj, **kw), linprog(-obj, **kw)
        out[c] = (lo.fun if lo.status == 0 else 0.0, -hi.fun if hi.status == 0 else np.inf)
    return out


def _attack_subtraction(published: pd.DataFrame, lines) -> set:
    """Attacker: repeatedly subtract known cells from a total when one unknown is left."""
    known = {
        (i, j): float(published.iat[i, j])
        for i in range(published.shape[0])
        for j in range(published.shape[1])
        if published.iat[i, j] != "x"
    }
    recovered = set()
    changed = True
    while changed:
        changed = False
        for cells, total in lines:
            unknown = [c for c in cells if c not in known]
            if len(unknown) == 1:
                known[unknown[0]] = total - sum(known[c] for c in cells if c in known)
                recovered.add(unknown[0])
                changed = True
    return recovered


def _random_table(seed: int, shape: tuple[int, int]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.random(shape) < 0.2
    big = rng.integers(10, 300, size=shape)
    return np.where(small, rng.integers(0, 10, size=shape), big)


@pytest.mark.parametrize("shape", [(3, 3), (5, 4), (8, 6), (12, 1), (1, 6), (15, 3), (30, 8)])
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_adversary_cannot_recover_suppressed_cells(shape, seed):
    values = _random_table(seed, shape)
    df = pd.DataFrame(values, columns=[f"c{j}" for j in range(shape[1])])
    res = dc.suppress(df, threshold=10)
    published = res.frame
    mask = (published == "x").to_numpy()
    assert not any(1 <= v < 10 for v in values[~mask]), "a small count was published"
    if res.info["margins_hidden"]:
        lines = []  # the totals are withheld too
    else:
        lines = _published_margins(values.astype(float), rows=shape[1] >= 2, cols=shape[0] >= 2)
    assert not _attack_subtraction(published, lines)
    intervals = _attack_lp(published, lines)
    primary = {
        (int(r), df.columns.get_loc(c))
        for r, c, why in zip(
            res.audit["row"], res.audit["column"], res.audit["reason"], strict=True
        )
        if why == dc.PRIMARY_SMALL
    }
    for cell, (lo, hi) in intervals.items():
        assert lo - 1e-6 <= values[cell] <= hi + 1e-6
        assert hi - lo > 0.5, f"cell {cell} recovered exactly ({lo}..{hi})"
        if cell in primary:
            # protection level: the attacker's interval is at least `threshold` wide
            assert hi - lo >= 10 - 1e-6, f"primary cell {cell} narrowed to {lo}..{hi}"


def _relations_with_totals(shape):
    """Published relations of a table whose last row and column are its totals (coef, cells)."""
    n_rows, n_cols = shape[0] - 1, shape[1] - 1
    rels = [
        [((i, j), 1.0) for j in range(n_cols)] + [((i, n_cols), -1.0)] for i in range(n_rows + 1)
    ]
    rels += [
        [((i, j), 1.0) for i in range(n_rows)] + [((n_rows, j), -1.0)] for j in range(n_cols + 1)
    ]
    return rels


def _attack_table_with_totals(published: pd.DataFrame):
    """Attacker on the frame as printed (totals included, some of them maybe x)."""
    cells = [
        (i, j)
        for i in range(published.shape[0])
        for j in range(published.shape[1])
        if published.iat[i, j] == "x"
    ]
    idx = {c: k for k, c in enumerate(cells)}
    a_eq, b_eq, recovered = [], [], set()
    rels = _relations_with_totals(published.shape)
    for rel in rels:
        row, known = np.zeros(len(cells)), 0.0
        for c, coef in rel:
            if c in idx:
                row[idx[c]] = coef
            else:
                known += coef * float(published.iat[c])
        if row.any():
            a_eq.append(row)
            b_eq.append(-known)
        if np.count_nonzero(row) == 1:
            recovered.add(cells[int(np.flatnonzero(row)[0])])
    out = {}
    for c, k in idx.items():
        obj = np.zeros(len(cells))
        obj[k] = 1
        kw = {"bounds": [(0, None)] * len(cells), "method": "highs"}
        if a_eq:
            kw.update(A_eq=np.array(a_eq), b_eq=np.array(b_eq))
        lo, hi = linprog(obj, **kw), linprog(-obj, **kw)
        out[c] = (lo.fun if lo.status == 0 else 0.0, -hi.fun if hi.status == 0 else np.inf)
    return out, recovered


@pytest.mark.parametrize("seed", [21, 22, 23, 24, 25])
def test_adversary_with_published_totals_some_of_them_small(seed):
    rng = np.random.default_rng(seed)
    scales = rng.choice([2, 6, 40, 200], size=5)  # some columns are small everywhere
    values = np.column_stack([rng.integers(0, s + 1, size=6) for s in scales])
    df = pd.DataFrame(values, columns=[f"c{j}" for j in range(5)])
    res = dc.suppress(df, add_totals=True)
    published = res.frame.drop(
        columns=[c for c in res.frame.columns if c not in df.columns and c != "計"]
    )
    numbers = pd.to_numeric(published.stack(), errors="coerce").dropna()
    assert not ((numbers >= 1) & (numbers < 10)).any(), "a small count or total was published"
    intervals, recovered = _attack_table_with_totals(published)
    assert not recovered
    full = np.vstack(
        [np.column_stack([values, values.sum(1)]), np.append(values.sum(0), values.sum())]
    )
    primary = {
        (published.index.get_loc(r), published.columns.get_loc(c))
        for r, c, why in zip(
            res.audit["row"], res.audit["column"], res.audit["reason"], strict=True
        )
        if why == dc.PRIMARY_SMALL
    }
    for cell, (lo, hi) in intervals.items():
        assert lo - 1e-6 <= full[cell] <= hi + 1e-6
        assert hi - lo > 0.5, f"cell {cell} recovered exactly"
        if cell in primary:
            assert hi - lo >= 10 - 1e-6


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_adversary_cannot_narrow_dominated_magnitudes(seed):
    rng = np.random.default_rng(seed)
    rows, cols = [f"地区{i}" for i in range(6)], [f"業種{j}" for j in range(4)]
    contribs, values = {}, np.zeros((6, 4))
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            n = int(rng.integers(1, 8))
            vals = rng.lognormal(3, 1.2, size=n)
            if rng.random() < 0.2:
                vals[0] *= 40  # one dominant business
            contribs[(r, c)] = vals.tolist()
            values[i, j] = vals.sum()
    df = pd.DataFrame(values, index=rows, columns=cols)
    res = dc.suppress(df, magnitude_columns=cols, contributors=contribs, dominance=(1, 0.85))
    assert (
        res.info["suppressed"][dc.PRIMARY_DOMINANCE] + res.info["suppressed"][dc.PRIMARY_SMALL] > 0
    )
    lines = [] if res.info["margins_hidden"] else _published_margins(values, rows=True, cols=True)
    assert not _attack_subtraction(res.frame, lines)
    primary = {
        (rows.index(r), cols.index(c))
        for r, c, why in zip(
            res.audit["row"], res.audit["column"], res.audit["reason"], strict=True
        )
        if why != dc.SECONDARY
    }
    for cell, (lo, hi) in _attack_lp(res.frame, lines).items():
        assert hi - lo > 1e-6 * values[cell]
        if cell in primary:
            assert hi - lo >= 0.15 * values[cell] - 1e-6  # magnitude_protection default


# --------------------------------------------------------------------------- show and the gate
def _output_from(res: dc.Suppressed) -> dict:
    data, metadata = res.mimebundle()
    return {"output_type": "display_data", "data": data, "metadata": metadata}


def _nb(*outputs) -> dict:
    return {"cells": [{"cell_type": "code", "source": "", "outputs": [o]} for o in outputs]}


def test_show_prints_outside_jupyter_and_formats_html(capsys, monkeypatch):
    monkeypatch.setattr(
        dc, "_catalog_rule", lambda table: ({"threshold": 10, "count_columns": ["n"]}, True)
    )
    df = pd.DataFrame({"町字": ["大通", "中央通", "本町"], "n": [1234, 5, 40]})
    res = dc.show(df, table="population_by_area", caption="町字別人口")
    printed = capsys.readouterr().out
    assert "x" in printed and "秘匿処理" in printed
    body = res.to_html()
    assert "1,234" in body and ">x<" in body and "text-align:right" in body
    assert "町字別人口" in body and "模擬データ" in body
    assert res.info["table"] == "population_by_area"


def test_show_refuses_when_catalog_columns_are_missing(monkeypatch):
    monkeypatch.setattr(
        dc, "_catalog_rule", lambda table: ({"count_columns": ["population"]}, False)
    )
    df = pd.DataFrame({"人口": [5, 40]})
    with pytest.raises(DisclosureError, match="count_columns"):
        dc.show(df, table="census_population")


_RULES = {
    "counter_visit": ({"threshold": 10, "count_columns": ["visits"]}, True),
    "open_table": ({"threshold": 10, "count_columns": []}, False),
}


def test_show_refuses_to_opt_a_protected_table_out(monkeypatch):
    """count_columns=[] cannot switch protection off for a table from a protected catalog table."""
    monkeypatch.setattr(dc, "_catalog_rule", lambda table: _RULES[table])
    df = pd.DataFrame({"窓口": ["本庁", "玉山"], "来庁者数": [3, 400]})
    with pytest.raises(
        DisclosureError, match=r"count_columns=\[\] で秘匿処理を外すことはできません"
    ):
        dc.show(df, table="counter_visit", count_columns=[])
    # the same table read through ebpm.sql/ebpm.load carries its source in attrs
    derived = df.copy()
    derived.attrs["tables"] = ["counter_visit"]
    with pytest.raises(DisclosureError, match="counter_visit"):
        dc.show(derived, count_columns=[])
    # named count columns: the catalog's rule (threshold 10) still applies
    res = dc.show(derived, count_columns=["来庁者数"])
    assert res.frame.loc[0, "来庁者数"] == "x" and res.info["protected"] is True
    assert res.info["table"] == "counter_visit"


def test_a_derived_table_keeps_its_source_rule(monkeypatch, capsys):
    monkeypatch.setattr(dc, "_catalog_rule", lambda table: _RULES[table])
    derived = pd.DataFrame({"visits": [4, 400, 300]})
    derived.attrs["tables"] = ["counter_visit"]
    res = dc.show(derived)  # no table= and no count_columns=: the source's rule is applied
    assert res.frame.loc[0, "visits"] == "x" and res.info["synthetic"] is True


def test_catalog_may_say_a_table_needs_no_protection(monkeypatch, capsys):
    monkeypatch.setattr(dc, "_catalog_rule", lambda table: _RULES[table])
    df = pd.DataFrame({"件数": [3, 400]})
    df.attrs["tables"] = ["open_table"]
    res = dc.show(df, count_columns=[])
    assert res.frame.loc[0, "件数"] == 3 and res.info["protected"] is False


def test_show_on_microdata_needs_the_count_and_hides_linked_means(monkeypatch, capsys):
    rule = {"threshold": 10, "count_columns": [], "microdata": True}
    monkeypatch.setattr(dc, "_catalog_rule", lambda table: (rule, True))
    agg = pd.DataFrame(
        {"n": [4, 120, 95], "satisfaction": [3.9, 3.1, 3.4]}, index=["玉山", "盛岡", "都南"]
    )
    with pytest.raises(DisclosureError, match="個票データ"):
        dc.show(agg, table="citizen_survey")
    res = dc.show(agg, table="citizen_survey", count_columns=["n"])
    assert res.frame.loc["玉山", "satisfaction"] == "x"
    assert res.frame.loc["盛岡", "satisfaction"] == 3.1


def test_check_outputs_passes_marked_tables():
    res = dc.suppress(pd.DataFrame({"n": [3, 40, 50]}))
    assert dc.check_outputs(_nb(_output_from(res))) == []


@pytest.mark.parametrize(
    ("output", "needle"),
    [
        (
            {
                "output_type": "execute_result",
                "data": {
                    "text/html": pd.DataFrame({"n": [3]}).to_html(),
                    "text/plain": "   n\n0  3",
                },
                "metadata": {},
            },
            "HTML",
        ),
        (
            {
                "output_type": "stream",
                "name": "stdout",
                "text": pd.DataFrame({"n": [3, 40], "m": [1, 2]}).to_string(),
            },
            "print",
        ),
        (
            {
                "output_type": "stream",
                "name": "stdout",
                "text": pd.Series([3, 40], name="n").to_string() + "\nName: n, dtype: int64",
            },
            "print",
        ),
        (
            {
                "output_type": "stream",
                "name": "stdout",
                "text": pd.DataFrame({"n": [3]}).to_html(),
            },
            "print",
        ),
        (
            {
                "output_type": "stream",
                "name": "stdout",
                "text": "| 地区 | 人数 |\n|---|---|\n| 北 | 3 |\n",
            },
            "print",
        ),
        (
            {
                "output_type": "stream",
                "name": "stdout",
                "text": "+------+------+\n| 地区 | 人数 |\n+======+======+\n| 北   | 3    |\n+------+------+\n",
            },
            "print",
        ),
        (
            {
                "output_type": "display_data",
                "data": {"text/markdown": "| a | b |\n|---|---|\n| 1 | 2 |"},
                "metadata": {},
            },
            "Markdown",
        ),
        (
            {
                "output_type": "execute_result",
                "data": {"text/plain": str(pd.Series([3, 40]))},
                "metadata": {},
            },
            "テキスト",
        ),
    ],
)
def test_check_outputs_catches_unmarked_tables(output, needle):
    problems = dc.check_outputs(_nb(output))
    assert len(problems) == 1 and needle in problems[0] and "ebpm.show" in problems[0]


def test_check_outputs_catches_a_leaked_small_count():
    res = dc.suppress(pd.DataFrame({"n": [12, 40, 50]}), table="census_population")
    out = _output_from(res)
    out["data"]["text/html"] = out["data"]["text/html"].replace(">12<", ">7<")
    problems = dc.check_outputs(_nb(out))
    assert problems and "census_population" in problems[0] and "しきい値10未満" in problems[0]


@pytest.mark.parametrize(
    "text",
    [
        "推定値: 1.23 分（95%信頼区間 0.5〜2.0）\n",
        "完了しました\n",
        "n = 1234\n",
        "build 20261126 ok\n",
    ],
)
def test_check_outputs_ignores_ordinary_prints(text):
    out = {"output_type": "stream", "name": "stdout", "text": text}
    assert dc.check_outputs(_nb(out)) == []


@pytest.mark.slow
def test_show_in_a_real_kernel_displays_once_with_marker():
    import nbclient
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import pandas as pd, ebpm\n"
            "df = pd.DataFrame({'n': [3, 40, 50, 60]})\n"
            "ebpm.show(df, count_columns=['n'], caption='テスト')"
        ),
        nbformat.v4.new_code_cell("df"),
    ]
    nbclient.NotebookClient(nb, timeout=120).execute()
    shown = nb.cells[0].outputs
    assert len(shown) == 1 and shown[0]["metadata"]["ebpm"]["disclosure"]["n_suppressed"] == 2
    problems = dc.check_outputs(nb)
    assert problems == ["セル2の出力に表（HTML）がありますが ebpm.show を通っていません"]
