"""Disclosure control (秘匿処理): primary and secondary suppression, `show` for templates, the render gate."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pandas as pd

from ebpm.config import DEFAULT_DISCLOSURE_THRESHOLD
from ebpm.errors import DisclosureError

PRIMARY_SMALL = "一次秘匿（少数）"
PRIMARY_DOMINANCE = "一次秘匿（優越）"
SECONDARY = "二次秘匿"
REASONS = (PRIMARY_SMALL, PRIMARY_DOMINANCE, SECONDARY)
MARK = "x"
TOTAL_LABEL = "計"
AUDIT_COLUMNS = ["row", "label", "column", "reason", "rule"]
MARKER_KEY = "ebpm"  # output metadata: {"ebpm": {"disclosure": {...}}}

_KIND_JA = {"count": "人数", "magnitude": "金額等"}


@dataclass
class Suppressed:
    """A table after disclosure control.

    Attributes
    ----------
    frame : pandas.DataFrame
        The publishable table: suppressed cells are the string ``"x"`` (as in official
        statistics); totals, when added, are kept.
    audit : pandas.DataFrame
        One row per suppressed cell: ``row`` (index label), ``label`` (the row's text columns),
        ``column``, ``reason`` (一次秘匿（少数）/一次秘匿（優越）/二次秘匿) and ``rule``.
        The hidden value is never part of it.
    info : dict
        JSON-safe summary (table, threshold, protected columns, counts by reason); this is the
        disclosure marker that :func:`show` attaches to the notebook output.
    """

    frame: pd.DataFrame
    audit: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)
    caption: str | None = None
    _shown_at: int | None = field(default=None, repr=False)

    @property
    def n_suppressed(self) -> int:
        """Number of cells shown as ``x``."""
        return len(self.audit)

    def summary(self) -> dict[str, Any]:
        """The disclosure marker (no hidden value, no position)."""
        return dict(self.info)

    def note_ja(self) -> str:
        """The short Japanese note printed under the table."""
        return _note_ja(self.info)

    def to_html(self) -> str:
        """Japanese-formatted HTML: thousands separators, right-aligned numbers, ``x`` cells."""
        return _frame_html(self.frame, self.info, caption=self.caption, note=self.note_ja())

    def mimebundle(self) -> tuple[dict[str, str], dict[str, Any]]:
        """Return ``(data, metadata)`` for IPython display, carrying the disclosure marker."""
        text = self.frame.to_string()
        note = self.note_ja()
        if note:
            text = f"{text}\n{note}"
        return (
            {"text/html": self.to_html(), "text/plain": text},
            {MARKER_KEY: {"disclosure": self.summary()}},
        )

    def display(self) -> None:
        """Display the suppressed table with its marker (inside Jupyter) or print it."""
        data, metadata = self.mimebundle()
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:  # pragma: no cover - IPython ships with ipykernel
            print(data["text/plain"])
            return
        shell = get_ipython()
        if shell is None:
            print(data["text/plain"])
            return
        display(data, raw=True, metadata=metadata)
        self._shown_at = getattr(shell, "execution_count", None)

    def _ipython_display_(self) -> None:
        # `ebpm.show(df)` as the last line of a cell: already displayed in this cell, skip the echo
        try:
            from IPython import get_ipython

            shell = get_ipython()
        except ImportError:  # pragma: no cover
            shell = None
        if shell is not None and self._shown_at == getattr(shell, "execution_count", -1):
            return
        self.display()

    def __repr__(self) -> str:
        return f"<秘匿処理済みの表: {self.frame.shape[0]}行×{self.frame.shape[1]}列, x {self.n_suppressed}セル>"


# --------------------------------------------------------------------------- primary rules


def small_count_mask(
    values: np.ndarray, threshold: int, *, suppress_zero: bool = False
) -> np.ndarray:
    """Cells whose count is in ``1..threshold-1`` (and 0 too when ``suppress_zero``)."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        low = values >= 0 if suppress_zero else values > 0
        return finite & low & (values < threshold)


def dominance_reason(
    contributions: Iterable[float],
    *,
    dominance: tuple[int, float] | None = (2, 0.85),
    p_percent: float | None = None,
    min_contributors: int = 3,
) -> tuple[str, str] | None:
    """Decide whether a magnitude cell is sensitive from its contributors' values.

    Parameters
    ----------
    contributions : iterable of float
        The value each contributor (事業所, 世帯 …) adds to the cell.
    dominance : (n, k) or None
        (n, k) rule: sensitive when the ``n`` largest contributors hold more than ``k`` of the total.
    p_percent : float, optional
        p% rule: sensitive when the total minus the two largest is less than ``p``% of the largest
        (the second largest contributor could estimate the largest within p%).
    min_contributors : int
        Cells with 1..min_contributors-1 contributors are sensitive (official 'x' for 1–2 事業所).

    Returns
    -------
    (reason, rule) or None
    """
    vals = sorted((abs(float(v)) for v in contributions), reverse=True)
    total = sum(vals)
    if not vals or total == 0:
        return None
    if len(vals) < min_contributors:
        return PRIMARY_SMALL, f"寄与者数が{min_contributors}未満"
    if dominance is not None:
        n, k = dominance
        if sum(vals[:n]) > k * total:
            return PRIMARY_DOMINANCE, f"上位{n}者の占有率が{k:.0%}超（(n,k)ルール）"
    if p_percent is not None:
        second = vals[1] if len(vals) > 1 else 0.0
        if total - vals[0] - second < p_percent / 100 * vals[0]:
            return PRIMARY_DOMINANCE, f"p%ルール（p={p_percent:g}）"
    return None


# --------------------------------------------------------------------------- secondary suppression


def pair_complements(values: np.ndarray, mask: np.ndarray, *, rows: bool, cols: bool) -> np.ndarray:
    """Add complements until no row/column with a published total holds exactly one hidden cell.

    The complement is the smallest positive published cell of that line (a zero only when no
    positive cell is left); repeated until stable.
    """
    mask = mask.copy()
    changed = True
    while changed:
        changed = False
        lines: list[tuple[str, int]] = []
        if rows:
            lines += [("r", i) for i in range(mask.shape[0])]
        if cols:
            lines += [("c", j) for j in range(mask.shape[1])]
        for kind, k in lines:
            line_mask = mask[k, :] if kind == "r" else mask[:, k]
            if line_mask.sum() != 1:
                continue
            line_vals = values[k, :] if kind == "r" else values[:, k]
            pick = _smallest_open(line_vals, line_mask)
            if pick is None:
                continue
            if kind == "r":
                mask[k, pick] = True
            else:
                mask[pick, k] = True
            changed = True
    return mask


def _smallest_open(line_vals: np.ndarray, line_mask: np.ndarray) -> int | None:
    open_idx = [j for j in range(len(line_vals)) if not line_mask[j]]
    if not open_idx:
        return None
    positive = [j for j in open_idx if line_vals[j] > 0]
    pool = positive or open_idx
    return min(pool, key=lambda j: (line_vals[j], j))


def feasible_intervals(
    values: np.ndarray,
    mask: np.ndarray,
    *,
    rows: bool,
    cols: bool,
    lower: float = 0.0,
    cells: Iterable[tuple[int, int]] | None = None,
) -> dict[tuple[int, int], tuple[float, float]]:
    """What an attacker can learn: the [min, max] of each hidden cell given the published margins.

    Solved by linear programming (``scipy.optimize.linprog``, HiGHS): the hidden cells of each
    published line must add up to its total minus its published cells, and every cell is ``>= lower``.
    ``cells`` limits the answer to some of the hidden cells (default: all of them).
    """
    from scipy.optimize import linprog

    hidden_cells = [(int(i), int(j)) for i, j in zip(*np.nonzero(mask), strict=True)]
    if not hidden_cells:
        return {}
    wanted = hidden_cells if cells is None else [c for c in hidden_cells if c in set(cells)]
    cells = hidden_cells
    index = {c: k for k, c in enumerate(cells)}
    n_rows, n_cols = mask.shape
    lines: list[list[tuple[int, int]]] = []
    if rows:
        lines += [[(i, j) for j in range(n_cols)] for i in range(n_rows)]
    if cols:
        lines += [[(i, j) for i in range(n_rows)] for j in range(n_cols)]
    a_eq, b_eq = [], []
    for line in lines:
        hidden = [index[c] for c in line if mask[c]]
        if not hidden:
            continue
        row = np.zeros(len(cells))
        row[hidden] = 1.0
        a_eq.append(row)
        b_eq.append(float(sum(values[c] for c in line if mask[c])))
    bounds = [(lower, None)] * len(cells)
    out: dict[tuple[int, int], tuple[float, float]] = {}
    for cell in wanted:
        k = index[cell]
        objective = np.zeros(len(cells))
        objective[k] = 1.0
        kwargs = {"bounds": bounds, "method": "highs"}
        if a_eq:
            kwargs.update(A_eq=np.array(a_eq), b_eq=np.array(b_eq))
        low = linprog(objective, **kwargs)
        high = linprog(-objective, **kwargs)
        lo = float(low.fun) if low.status == 0 else lower
        hi = float(-high.fun) if high.status == 0 else math.inf
        out[cell] = (lo, hi)
    return out


@dataclass
class _Block:
    kind: str  # "count" | "magnitude"
    columns: list[str]
    values: np.ndarray
    primary: dict[tuple[int, int], tuple[str, str]]
    rows: bool  # row totals are (or may be) published
    cols: bool  # column totals are (or may be) published
    mask: np.ndarray | None = None
    secondary: dict[tuple[int, int], str] = field(default_factory=dict)
    margins_hidden: bool = False


def _required_width(block: _Block, cell: tuple[int, int], protection: float, rel: float) -> float:
    if cell not in block.primary:
        return 0.5 if block.kind == "count" else max(1e-6 * abs(block.values[cell]), 1e-9)
    if block.kind == "count":
        return protection
    return max(rel * abs(block.values[cell]), 1e-9)


def _protect(block: _Block, *, protection: float, rel: float, lower: float) -> None:
    n_rows, n_cols = block.values.shape
    mask = np.zeros((n_rows, n_cols), dtype=bool)
    for cell in block.primary:
        mask[cell] = True
    if not (block.rows or block.cols) or not mask.any():
        block.mask = mask
        return
    # Hiding one more cell can only widen what an attacker learns about the others (the old
    # solutions stay feasible), so a cell that passed the check keeps passing: re-check only
    # the cells that failed and the ones just added.
    to_check = set(block.primary)
    for _ in range(n_rows * n_cols + 1):
        paired = pair_complements(block.values, mask, rows=block.rows, cols=block.cols)
        for i, j in zip(*np.nonzero(paired & ~mask), strict=True):
            cell = (int(i), int(j))
            block.secondary.setdefault(cell, "合計からの逆算防止（行・列の x を2つ以上に）")
            to_check.add(cell)
        mask = paired
        intervals = feasible_intervals(
            block.values, mask, rows=block.rows, cols=block.cols, lower=lower, cells=to_check
        )
        failing = sorted(
            (
                c
                for c, (lo, hi) in intervals.items()
                if hi - lo < _required_width(block, c, protection, rel)
            ),
            key=lambda c: (c not in block.primary, c),
        )
        if not failing:
            break
        added = _widen(block, mask, failing, protection, rel)
        if not added:
            block.margins_hidden = True
            break
        for cell in added:
            mask[cell] = True
            block.secondary[cell] = "線形計画法による検証で保護幅が不足したため追加"
        to_check = set(failing) | set(added)
    block.mask = mask


def _widen(block: _Block, mask: np.ndarray, failing, protection: float, rel: float):
    """Pick more cells to hide: at most one per failing cell and per row/column in one round.

    Preferred: a cell whose other line already holds an x (no new chain of complements), then a
    cell at least as large as the protection needed, the smallest such; else the largest.
    """
    n_rows, n_cols = mask.shape
    added: list[tuple[int, int]] = []
    touched_rows: set[int] = set()
    touched_cols: set[int] = set()
    for i, j in failing:
        if i in touched_rows or j in touched_cols:
            continue  # this round already widened its row or column; re-check next round
        candidates = []
        if block.rows:
            candidates += [(i, jj) for jj in range(n_cols) if not mask[i, jj]]
        if block.cols:
            candidates += [(ii, j) for ii in range(n_rows) if not mask[ii, j]]
        candidates = [c for c in candidates if c not in added]
        if not candidates:
            continue
        need = _required_width(block, (i, j), protection, rel)

        def cost(c, i=i, need=need):
            value = block.values[c]
            other_has_x = mask[:, c[1]].any() if c[0] == i else mask[c[0], :].any()
            chain = 0 if other_has_x else 1
            fits = value >= need
            return (chain, not fits, value if fits else -value, c)

        pick = min(candidates, key=cost)
        added.append(pick)
        touched_rows.add(pick[0])
        touched_cols.add(pick[1])
    return added


# --------------------------------------------------------------------------- suppress


def suppress(
    df: pd.DataFrame,
    *,
    count_columns: Sequence[str] | None = None,
    threshold: int = DEFAULT_DISCLOSURE_THRESHOLD,
    suppress_zero: bool = False,
    dominance: tuple[int, float] | None = (2, 0.85),
    p_percent: float | None = None,
    min_contributors: int = 3,
    magnitude_columns: Sequence[str] | None = None,
    contributors: pd.DataFrame | Mapping[tuple[Any, str], Sequence[float]] | None = None,
    margins: bool = True,
    add_totals: bool = False,
    protection: float | None = None,
    magnitude_protection: float = 0.15,
    table: str | None = None,
) -> Suppressed:
    """Apply primary and secondary suppression (秘匿処理) to a table.

    Parameters
    ----------
    df : pandas.DataFrame
        Interior cells of the table (no total rows/columns; use ``add_totals`` to publish totals).
        Rows are identified by the index; text columns are kept as labels.
    count_columns : list of str, optional
        Columns holding counts of persons/households. Default: every integer column when no
        ``magnitude_columns`` are given. ``[]`` means "no count column".
    threshold : int
        Counts ``1..threshold-1`` are hidden (一次秘匿（少数）); default 10.
    suppress_zero : bool
        Also hide zero counts. Off by default: a zero reveals nothing about a person, and official
        tables publish it as ``-``.
    dominance : (n, k) or None
        (n, k) dominance rule for magnitude cells, e.g. ``(1, 0.85)`` or ``(2, 0.85)``.
    p_percent : float, optional
        p% rule for magnitude cells (may be combined with ``dominance``).
    min_contributors : int
        Magnitude cells with fewer contributors are hidden (1–2 事業所 in official statistics).
    magnitude_columns : list of str, optional
        Columns holding magnitudes (sales, amounts) that need ``contributors``.
    contributors : DataFrame or mapping, optional
        Contributor values per magnitude cell: a long frame with columns ``row`` (index label of
        ``df``), ``column`` and ``value``, or a mapping ``{(row, column): [values]}``.
    margins : bool
        Row and column totals are (or may be) published: apply secondary suppression and verify it
        by linear programming. ``False`` only when no total of these cells is published anywhere.
    add_totals : bool
        Append a 計 row (and a 計 column for blocks with two or more columns), computed from the
        original values.
    protection : float, optional
        Minimum width of what an attacker can learn about a hidden count (default ``threshold``).
    magnitude_protection : float
        Same for magnitude cells, as a share of the cell value (default 15%).
    table : str, optional
        Name of the catalog table, for messages and the marker.

    Returns
    -------
    Suppressed
    """
    _validate(df, threshold=threshold, dominance=dominance, p_percent=p_percent, table=table)
    magnitude_columns = list(magnitude_columns or [])
    if count_columns is None:
        count_columns = (
            []
            if magnitude_columns
            else [c for c in df.columns if pd.api.types.is_integer_dtype(df[c].dtype)]
        )
    count_columns = list(count_columns)
    for col in count_columns + magnitude_columns:
        if col not in df.columns:
            raise DisclosureError("秘匿処理の対象列が表にありません", column=str(col), table=table)
        if not pd.api.types.is_numeric_dtype(df[col].dtype):
            raise DisclosureError(
                "秘匿処理の対象列が数値ではありません", column=str(col), table=table
            )
    protection = float(threshold if protection is None else protection)

    blocks: list[_Block] = []
    if count_columns:
        values = _matrix(df, count_columns, table)
        neg = np.argwhere(values < 0)
        if len(neg):
            i, j = neg[0]
            raise DisclosureError(
                "人数の列に負の値があります", row=int(i) + 1, column=count_columns[j], table=table
            )
        small = small_count_mask(values, threshold, suppress_zero=suppress_zero)
        rule = f"人数が1〜{threshold - 1}（しきい値{threshold}未満）"
        if suppress_zero:
            rule = f"人数が0〜{threshold - 1}（しきい値{threshold}未満、0も秘匿）"
        primary = {(int(i), int(j)): (PRIMARY_SMALL, rule) for i, j in np.argwhere(small)}
        blocks.append(_block("count", count_columns, values, primary, margins))
    if magnitude_columns:
        if contributors is None:
            raise DisclosureError(
                "金額等の列の秘匿処理には寄与者（事業所など）ごとの値 contributors が必要です",
                parameter="contributors",
                table=table,
            )
        values = _matrix(df, magnitude_columns, table)
        lookup = _contributors(contributors)
        primary = {}
        for i, row_label in enumerate(df.index):
            for j, col in enumerate(magnitude_columns):
                if values[i, j] == 0:
                    continue
                contribs = lookup.get((row_label, col))
                if contribs is None:
                    raise DisclosureError(
                        "この金額セルの寄与者データがありません", row=i + 1, column=col, table=table
                    )
                found = dominance_reason(
                    contribs,
                    dominance=dominance,
                    p_percent=p_percent,
                    min_contributors=min_contributors,
                )
                if found:
                    primary[(i, j)] = found
        blocks.append(_block("magnitude", magnitude_columns, values, primary, margins))

    for block in blocks:
        lower = 0.0
        if block.kind == "count" and not suppress_zero:
            lower = 1.0  # zero counts are published, so an attacker knows every x is at least 1
        _protect(block, protection=protection, rel=magnitude_protection, lower=lower)
        if block.kind == "count" and lower == 1.0 and np.any(block.values[block.mask] == 0):
            # a zero complement was unavoidable: redo the check with the weaker attacker bound
            block.mask = None
            block.secondary.clear()
            _protect(block, protection=protection, rel=magnitude_protection, lower=0.0)

    frame, audit = _publish(df, blocks, add_totals=add_totals)
    info = _info(
        table=table,
        threshold=threshold,
        count_columns=count_columns,
        magnitude_columns=magnitude_columns,
        audit=audit,
        blocks=blocks,
        margins=margins,
        dominance=dominance,
        p_percent=p_percent,
        suppress_zero=suppress_zero,
    )
    return Suppressed(frame=frame, audit=audit, info=info)


def _validate(df, *, threshold, dominance, p_percent, table) -> None:
    if not isinstance(df, pd.DataFrame):
        raise DisclosureError("秘匿処理には pandas の DataFrame を渡してください", table=table)
    if not isinstance(threshold, (int, np.integer)) or isinstance(threshold, bool) or threshold < 1:
        raise DisclosureError(
            f"しきい値は1以上の整数で指定してください（指定値: {threshold!r}）",
            parameter="threshold",
            table=table,
        )
    if dominance is not None:
        ok = (
            isinstance(dominance, tuple)
            and len(dominance) == 2
            and int(dominance[0]) >= 1
            and 0 < float(dominance[1]) <= 1
        )
        if not ok:
            raise DisclosureError(
                f"優越ルールは (n, k) の形で、n は1以上、k は0より大きく1以下で指定してください"
                f"（指定値: {dominance!r}）",
                parameter="dominance",
                table=table,
            )
    if p_percent is not None and not (0 < float(p_percent) < 100):
        raise DisclosureError(
            f"p%ルールの p は0より大きく100未満で指定してください（指定値: {p_percent!r}）",
            parameter="p_percent",
            table=table,
        )


def _matrix(df: pd.DataFrame, columns: list[str], table: str | None) -> np.ndarray:
    values = df[columns].astype("float64").to_numpy(na_value=np.nan)
    return np.where(np.isnan(values), 0.0, values)  # missing cells count as 0 in totals


def _block(kind, columns, values, primary, margins) -> _Block:
    n_rows, n_cols = values.shape
    # a total over a single cell would be the cell itself, so such totals are never published
    return _Block(
        kind=kind,
        columns=columns,
        values=values,
        primary=primary,
        rows=margins and n_cols >= 2,
        cols=margins and n_rows >= 2,
    )


def _contributors(contributors) -> dict[tuple[Any, str], list[float]]:
    if isinstance(contributors, pd.DataFrame):
        missing = {"row", "column", "value"} - set(contributors.columns)
        if missing:
            raise DisclosureError(
                f"contributors には row, column, value の列が必要です（不足: {', '.join(sorted(missing))}）",
                parameter="contributors",
            )
        out: dict[tuple[Any, str], list[float]] = {}
        for row, col, value in contributors[["row", "column", "value"]].itertuples(index=False):
            out.setdefault((row, col), []).append(float(value))
        return out
    return {key: [float(v) for v in vals] for key, vals in dict(contributors).items()}


def _publish(df: pd.DataFrame, blocks: list[_Block], *, add_totals: bool):
    frame = df.copy()
    audit_rows = []
    labels = _row_labels(df, [c for b in blocks for c in b.columns])
    for block in blocks:
        for col in block.columns:
            frame[col] = frame[col].astype(object)
        for i, j in zip(*np.nonzero(block.mask), strict=True):
            cell = (int(i), int(j))
            col = block.columns[j]
            frame.iloc[cell[0], frame.columns.get_loc(col)] = MARK
            reason, rule = block.primary.get(cell, (SECONDARY, block.secondary.get(cell, "")))
            audit_rows.append(
                {
                    "row": _plain(df.index[cell[0]]),
                    "label": labels[cell[0]],
                    "column": str(col),
                    "reason": reason,
                    "rule": rule,
                }
            )
        for col in block.columns:
            frame[col] = [v if v == MARK else _plain_number(v) for v in frame[col]]
        if block.margins_hidden:
            audit_rows.append(
                {
                    "row": TOTAL_LABEL,
                    "label": TOTAL_LABEL,
                    "column": TOTAL_LABEL,
                    "reason": SECONDARY,
                    "rule": "保護幅を確保できないため合計も秘匿（合計を公表しないこと）",
                }
            )
    if add_totals:
        frame = _add_totals(df, frame, blocks)
    audit = pd.DataFrame(audit_rows, columns=AUDIT_COLUMNS)
    return frame, audit


def _row_labels(df: pd.DataFrame, protected: list[str]) -> list[str]:
    text_cols = [
        c
        for c in df.columns
        if c not in protected and not pd.api.types.is_numeric_dtype(df[c].dtype)
    ]
    if not text_cols:
        return [str(v) for v in df.index]
    return [" ".join(str(v) for v in row) for row in df[text_cols].itertuples(index=False)]


def _add_totals(df: pd.DataFrame, frame: pd.DataFrame, blocks: list[_Block]) -> pd.DataFrame:
    wide = [b for b in blocks if len(b.columns) >= 2]
    total_row: dict[str, Any] = {c: "" for c in frame.columns}
    text_cols = [c for c in frame.columns if not any(c in b.columns for b in blocks)]
    if text_cols:
        total_row[text_cols[0]] = TOTAL_LABEL
    for block in blocks:
        for j, col in enumerate(block.columns):
            if len(df) >= 2:
                total_row[col] = (
                    MARK if block.margins_hidden else _plain_number(block.values[:, j].sum())
                )
            else:
                total_row[col] = ""
    for block in wide:
        name = TOTAL_LABEL if len(wide) == 1 else f"{TOTAL_LABEL}（{_KIND_JA[block.kind]}）"
        sums = block.values.sum(axis=1)
        frame[name] = [MARK if block.margins_hidden else _plain_number(v) for v in sums]
        total_row[name] = MARK if block.margins_hidden else _plain_number(sums.sum())
    if len(df) >= 2 or wide:
        keep_range = isinstance(df.index, pd.RangeIndex) and bool(text_cols)
        label = len(df) if keep_range else TOTAL_LABEL  # 計 goes in the first text column instead
        frame.loc[label] = pd.Series(total_row)
    return frame


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value if isinstance(value, (int, float, str)) else str(value)


def _plain_number(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return value
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _info(
    *,
    table,
    threshold,
    count_columns,
    magnitude_columns,
    audit,
    blocks,
    margins,
    dominance,
    p_percent,
    suppress_zero,
) -> dict[str, Any]:
    counts = {r: int((audit["reason"] == r).sum()) for r in REASONS}
    return {
        "version": 1,
        "table": table,
        "protected": bool(count_columns or magnitude_columns),
        "threshold": int(threshold),
        "suppress_zero": bool(suppress_zero),
        "count_columns": [str(c) for c in count_columns],
        "magnitude_columns": [str(c) for c in magnitude_columns],
        "dominance": list(dominance) if dominance and magnitude_columns else None,
        "p_percent": p_percent if magnitude_columns else None,
        "margins": bool(margins),
        "margins_hidden": any(b.margins_hidden for b in blocks),
        "suppressed": counts,
        "n_suppressed": int(len(audit)),
    }


# --------------------------------------------------------------------------- display


def show(
    df: pd.DataFrame,
    *,
    table: str | None = None,
    count_columns: Sequence[str] | None = None,
    threshold: int | None = None,
    caption: str | None = None,
    **options: Any,
) -> Suppressed:
    """Display a table in a report after disclosure control — the only way templates show tables.

    Parameters
    ----------
    df : pandas.DataFrame
        The table to show (interior cells; see :func:`suppress`).
    table : str, optional
        Curated table the numbers come from; its catalog rule (``disclosure: {threshold,
        count_columns}``) is applied. Without ``table`` and ``count_columns`` the table is shown as
        not protected (still marked, so the render gate knows it was reviewed).
    count_columns : list of str, optional
        Count columns, overriding the catalog (``[]`` = none of the columns are counts).
    threshold : int, optional
        Overrides the catalog threshold (default 10).
    caption : str, optional
        Japanese caption shown above the table.
    **options
        Passed to :func:`suppress` (``add_totals``, ``magnitude_columns``, ``contributors`` …).

    Returns
    -------
    Suppressed
    """
    rule: dict[str, Any] = {}
    synthetic = False
    if table is not None:
        rule, synthetic = _catalog_rule(table)
    if threshold is None:
        threshold = int(rule.get("threshold", DEFAULT_DISCLOSURE_THRESHOLD))
    if count_columns is None:
        declared = list(rule.get("count_columns") or [])
        present = [c for c in declared if c in df.columns]
        if declared and not present:
            raise DisclosureError(
                f"秘匿対象の人数の列（{', '.join(declared)}）が表にありません。"
                "列名を変えた場合は count_columns= で人数の列を指定し、"
                "人数の列がない場合は count_columns=[] と明示してください",
                table=table,
            )
        count_columns = present
    if not options.get("magnitude_columns") and not count_columns:
        count_columns = []
    result = suppress(df, count_columns=count_columns, threshold=threshold, table=table, **options)
    result.caption = caption
    result.info["synthetic"] = bool(synthetic)
    result.display()
    return result


def _catalog_rule(table: str) -> tuple[dict[str, Any], bool]:
    try:
        from ebpm.data import table_info
    except ImportError as err:
        raise DisclosureError(
            "整備済みデータベースの情報（ebpm.data）を読めないため秘匿ルールを確認できません",
            table=table,
        ) from err
    info = table_info(table)
    return dict(info.get("disclosure") or {}), bool(info.get("synthetic", False))


def _format_cell(value: Any) -> tuple[str, bool]:
    """Return (text, is_number) in Japanese office style."""
    if isinstance(value, str):
        return value, value == MARK
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "—", False
    if isinstance(value, (bool, np.bool_)):
        return ("はい" if value else "いいえ"), False
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}", True
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if value.is_integer():
            return f"{value:,.0f}", True
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
        return text, True
    if hasattr(value, "isoformat"):
        return value.isoformat(), False
    return str(value), False


_TABLE_STYLE = "border-collapse:collapse;font-variant-numeric:tabular-nums;margin:0.5em 0"
_CELL_STYLE = "border-bottom:1px solid #ccc;padding:0.25em 0.6em"


def _frame_html(
    frame: pd.DataFrame, info: dict[str, Any], *, caption: str | None, note: str
) -> str:
    protected = set(info.get("count_columns") or []) | set(info.get("magnitude_columns") or [])
    counts = set(info.get("count_columns") or [])
    show_index = not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None
    esc = html.escape
    parts = [
        f'<figure class="ebpm-table" style="margin:0.5em 0"><table class="ebpm-disclosed" style="{_TABLE_STYLE}">'
    ]
    if caption:
        parts.append(
            f'<caption style="text-align:left;font-weight:bold;padding-bottom:0.3em">{esc(caption)}</caption>'
        )
    parts.append("<thead><tr>")
    if show_index:
        parts.append(
            f'<th scope="col" style="{_CELL_STYLE}">{esc(str(frame.index.name or ""))}</th>'
        )
    numeric_cols = {
        c for c in frame.columns if c in protected or pd.api.types.is_numeric_dtype(frame[c].dtype)
    }
    for col in frame.columns:
        align = "right" if col in numeric_cols else "left"
        parts.append(
            f'<th scope="col" style="{_CELL_STYLE};text-align:{align}">{esc(str(col))}</th>'
        )
    parts.append("</tr></thead><tbody>")
    for label, row in zip(frame.index, frame.itertuples(index=False), strict=True):
        parts.append("<tr>")
        if show_index:
            parts.append(
                f'<th scope="row" style="{_CELL_STYLE};text-align:left">{esc(str(label))}</th>'
            )
        for col, value in zip(frame.columns, row, strict=True):
            text, is_number = _format_cell(value)
            align = "right" if (is_number or col in numeric_cols) else "left"
            attr = f' data-ebpm-count="{esc(str(col))}"' if col in counts else ""
            parts.append(f'<td style="{_CELL_STYLE};text-align:{align}"{attr}>{esc(text)}</td>')
        parts.append("</tr>")
    parts.append("</tbody></table>")
    if note:
        parts.append(
            f'<figcaption class="ebpm-note" style="font-size:0.85em;color:#444">{esc(note)}</figcaption>'
        )
    parts.append("</figure>")
    return "".join(parts)


def _note_ja(info: dict[str, Any]) -> str:
    if not info.get("protected"):
        return "（模擬データ）" if info.get("synthetic") else ""
    counts = info.get("suppressed", {})
    thr = info.get("threshold", DEFAULT_DISCLOSURE_THRESHOLD)
    kinds = []
    if counts.get(PRIMARY_SMALL):
        if info.get("count_columns"):
            kinds.append(f"一次秘匿：{thr}未満の人数")
        else:
            kinds.append("一次秘匿：寄与者が少ないもの")
    if counts.get(PRIMARY_DOMINANCE):
        kinds.append("一次秘匿：少数の寄与者が大部分を占めるもの")
    if counts.get(SECONDARY):
        kinds.append("二次秘匿：合計からの逆算を防ぐための追加秘匿")
    tail = "（模擬データ）" if info.get("synthetic") else ""
    if kinds:
        text = f"x は秘匿処理（{'、'.join(kinds)}）により非表示。"
        if info.get("margins_hidden"):
            text += "合計も秘匿しています。"
        return text + tail
    return f"秘匿処理済み（{thr}未満の人数は x で表示。この表には該当なし）。" + tail


# --------------------------------------------------------------------------- render-time gate

_HTML_TABLE = re.compile(r"<table\b", re.IGNORECASE)
_MD_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$", re.MULTILINE)
_FRAME_FOOTER = re.compile(r"\[\d+ rows x \d+ columns\]")
_SERIES_FOOTER = re.compile(r"^(Name: .*, )?(Length: \d+, )?dtype: \w+\s*$", re.MULTILINE)
_NUM = r"-?[\d,]+(?:\.\d+)?|NaN|<NA>"
_BODY_LINE = re.compile(rf"^\S+(?:\s+\S+)*?(?:\s+(?:{_NUM})){{1,}}\s*$")
_TABLE_MIMES = ("application/vnd.dataresource+json",)


def looks_like_frame_text(text: str) -> bool:
    """True when plain text looks like a printed DataFrame or Series (a table that skipped `show`)."""
    if _FRAME_FOOTER.search(text):
        return True
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if _SERIES_FOOTER.search(text) and len(lines) >= 2:
        return True
    for k in range(len(lines) - 2):
        header, first, second = lines[k : k + 3]
        if header.startswith(" ") and len(header.split()) >= 1 and re.search(r"\s{2,}\S", header):
            if _BODY_LINE.match(first) and _BODY_LINE.match(second):
                return True
    return False


class _CountCells(HTMLParser):
    """Collect the text of cells tagged ``data-ebpm-count`` by :func:`show`."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[str, str]] = []
        self._col: str | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "td":
            attrs = dict(attrs)
            if "data-ebpm-count" in attrs:
                self._col = attrs["data-ebpm-count"] or ""
                self._buf = []

    def handle_data(self, data):
        if self._col is not None:
            self._buf.append(data)

    def handle_endtag(self, tag):
        if tag == "td" and self._col is not None:
            self.cells.append((self._col, "".join(self._buf).strip()))
            self._col = None


def _as_number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def check_outputs(nb: Any) -> list[str]:
    """Check an executed notebook before it is rendered: the disclosure gate.

    Parameters
    ----------
    nb : nbformat.NotebookNode or dict
        The executed notebook.

    Returns
    -------
    list of str
        Japanese problems; empty when every table went through :func:`show` and no marked table
        from a protected source shows a count in ``1..threshold-1``.
    """
    problems: list[str] = []
    for number, cell in enumerate(nb.get("cells", []), start=1):
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []) or []:
            problems.extend(_check_output(number, output))
    return problems


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "".join(value)
    return value if isinstance(value, str) else ""


def _check_output(number: int, output: Mapping[str, Any]) -> list[str]:
    where = f"セル{number}"
    kind = output.get("output_type")
    if kind == "stream":
        if looks_like_frame_text(_text(output.get("text"))):
            return [f"{where}の出力（print）に表が含まれていますが ebpm.show を通っていません"]
        return []
    if kind not in ("display_data", "execute_result"):
        return []
    data = output.get("data", {}) or {}
    marker = ((output.get("metadata") or {}).get(MARKER_KEY) or {}).get("disclosure")
    html_text = _text(data.get("text/html"))
    if marker is None:
        if _HTML_TABLE.search(html_text):
            return [f"{where}の出力に表（HTML）がありますが ebpm.show を通っていません"]
        if _MD_RULE.search(_text(data.get("text/markdown"))):
            return [f"{where}の出力に表（Markdown）がありますが ebpm.show を通っていません"]
        if any(m in data for m in _TABLE_MIMES):
            return [f"{where}の出力に表（データ）がありますが ebpm.show を通っていません"]
        if looks_like_frame_text(_text(data.get("text/plain"))):
            return [f"{where}の出力に表（テキスト）がありますが ebpm.show を通っていません"]
        return []
    if not marker.get("protected"):
        return []
    threshold = int(marker.get("threshold", DEFAULT_DISCLOSURE_THRESHOLD))
    low = 0 if marker.get("suppress_zero") else 1
    parser = _CountCells()
    parser.feed(html_text)
    problems = []
    for col, text in parser.cells:
        value = _as_number(text)
        if value is not None and low <= value < threshold:
            table = marker.get("table") or "（表名なし）"
            problems.append(
                f"{where}: テーブル「{table}」の列「{col}」にしきい値{threshold}未満の人数（{text}）が表示されています"
            )
    return problems
