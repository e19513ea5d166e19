"""Disclosure control (秘匿処理) on DataFrames: `suppress`, `show` for templates; the gate is re-exported."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ebpm.config import DEFAULT_DISCLOSURE_THRESHOLD
from ebpm.disclosure.gate import MARKER_KEY, check_outputs, looks_like_frame_text  # noqa: F401
from ebpm.disclosure.html import frame_html, note_ja
from ebpm.disclosure.suppression import (  # noqa: F401  re-exported: the rules are part of this API
    PRIMARY_DOMINANCE,
    PRIMARY_SMALL,
    REASONS,
    SECONDARY,
    Layout,
    Protection,
    dominance_reason,
    extend,
    feasible_intervals,
    pair_complements,
    protect,
    small_count_mask,
)
from ebpm.errors import DisclosureError

MARK = "x"
TOTAL_LABEL = "計"
AUDIT_COLUMNS = ["row", "label", "column", "reason", "rule"]

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
        return note_ja(self.info)

    def to_html(self) -> str:
        """Japanese-formatted HTML: thousands separators, right-aligned numbers, ``x`` cells."""
        return frame_html(self.frame, self.info, caption=self.caption, note=self.note_ja())

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


# --------------------------------------------------------------------------- suppress


@dataclass
class _Block:
    """One group of additive columns (counts or magnitudes) with its totals."""

    kind: str  # "count" | "magnitude"
    columns: list[str]  # interior columns
    layout: Layout
    values: np.ndarray  # interior plus totals (see ebpm.disclosure.suppression.Layout)
    primary: dict[tuple[int, int], tuple[str, str]]
    margins_out: bool  # the totals are part of the published frame
    total_col_name: str | None = None
    result: Protection | None = None

    @property
    def margins_hidden(self) -> bool:
        return bool(self.result and self.result.margins_hidden)


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
    linked_columns: Sequence[str] | None = None,
    table: str | None = None,
) -> Suppressed:
    """Apply primary and secondary suppression (秘匿処理) to a table.

    Parameters
    ----------
    df : pandas.DataFrame
        The table. Rows are identified by the index; text columns are kept as labels. A count
        column equal to the sum of the other count columns (a 計 column), or a row equal to the sum
        of the other rows (a 計 row), is recognised as a published total; otherwise pass interior
        cells and use ``add_totals``.
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
        original values; a total that is itself a small count is hidden too.
    protection : float, optional
        Minimum width of what an attacker can learn about a hidden count (default ``threshold``).
    magnitude_protection : float
        Same for magnitude cells, as a share of the cell value (default 15%).
    linked_columns : list of str, optional
        Non-additive values computed from the same people (means, shares): hidden in every row
        where a count cell is hidden by the small-count rule.
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
    linked_columns = list(linked_columns or [])
    for col in count_columns + magnitude_columns + linked_columns:
        if col not in df.columns:
            import difflib

            close = difflib.get_close_matches(str(col), [str(c) for c in df.columns], n=3)
            hint = (
                ("もしかして" + "・".join(f"「{c}」" for c in close) + "ですか？") if close else ""
            )
            raise DisclosureError(
                f"秘匿処理の対象列（count_columns など）が表にありません。{hint}"
                f"ある列: {'、'.join(map(str, df.columns))}",
                column=str(col),
                table=table,
                parameter="count_columns",
            )
    for col in count_columns + magnitude_columns:
        if not pd.api.types.is_numeric_dtype(df[col].dtype):
            raise DisclosureError(
                "秘匿処理の対象列が数値ではありません", column=str(col), table=table
            )
    if add_totals and not margins:
        raise DisclosureError(
            "add_totals=True（合計を付ける）には margins=True が必要です",
            parameter="margins",
            table=table,
        )
    protection = float(threshold if protection is None else protection)

    total_cols, total_rows = ([], [])
    if margins and count_columns:
        total_cols, total_rows = _detect_totals(df, count_columns)
    inner_rows = [p for p in range(len(df)) if p not in total_rows]
    row_out = bool(total_rows) or add_totals

    blocks: list[_Block] = []
    if count_columns:
        columns = [c for c in count_columns if c not in total_cols]
        interior = _matrix(df.iloc[inner_rows], columns)
        neg = np.argwhere(interior < 0)
        if len(neg):
            i, j = neg[0]
            raise DisclosureError(
                "人数の列に負の値があります", row=inner_rows[i] + 1, column=columns[j], table=table
            )
        layout = Layout(
            len(inner_rows),
            len(columns),
            margins and len(columns) >= 2,
            margins and len(inner_rows) >= 2,
        )
        values = extend(interior, layout)
        small = small_count_mask(values, threshold, suppress_zero=suppress_zero)
        rule = f"人数が{0 if suppress_zero else 1}〜{threshold - 1}（しきい値{threshold}未満）"
        primary = {}
        col_out = bool(total_cols) or add_totals
        for i, j in np.argwhere(small):
            cell = (int(i), int(j))
            if not layout.is_margin(cell):
                primary[cell] = (PRIMARY_SMALL, rule)
            elif _margin_published(layout, cell, row_out=row_out, col_out=col_out):
                primary[cell] = (PRIMARY_SMALL, rule.replace("人数が", "合計の人数が"))
        blocks.append(
            _Block(
                "count",
                columns,
                layout,
                values,
                primary,
                margins_out=row_out or col_out,
                total_col_name=total_cols[0] if total_cols else None,
            )
        )
    if magnitude_columns:
        if contributors is None:
            raise DisclosureError(
                "金額等の列の秘匿処理には寄与者（事業所など）ごとの値 contributors が必要です",
                parameter="contributors",
                table=table,
            )
        interior = _matrix(df.iloc[inner_rows], magnitude_columns)
        layout = Layout(
            len(inner_rows),
            len(magnitude_columns),
            margins and len(magnitude_columns) >= 2,
            margins and len(inner_rows) >= 2,
        )
        values = extend(interior, layout)
        if total_rows and not np.allclose(
            _matrix(df.iloc[total_rows], magnitude_columns)[0], values[-1, : layout.n_cols]
        ):
            raise DisclosureError(
                "計の行の金額等が各行の合計と一致しません", row=total_rows[0] + 1, table=table
            )
        lookup = _contributors(contributors)
        primary = {}
        for i, pos in enumerate(inner_rows):
            row_label = df.index[pos]
            for j, col in enumerate(magnitude_columns):
                if values[i, j] == 0:
                    continue
                contribs = lookup.get((row_label, col))
                if contribs is None:
                    raise DisclosureError(
                        "この金額セルの寄与者データがありません",
                        row=pos + 1,
                        column=col,
                        table=table,
                    )
                found = dominance_reason(
                    contribs,
                    dominance=dominance,
                    p_percent=p_percent,
                    min_contributors=min_contributors,
                )
                if found:
                    primary[(i, j)] = found
        blocks.append(
            _Block(
                "magnitude",
                magnitude_columns,
                layout,
                values,
                primary,
                margins_out=add_totals or bool(total_rows),
            )
        )

    for block in blocks:
        _protect_block(
            block,
            suppress_zero=suppress_zero,
            protection=protection,
            rel=magnitude_protection,
            row_out=row_out,
            col_out=add_totals or block.total_col_name is not None,
        )

    frame, audit = _publish(
        df,
        blocks,
        inner_rows=inner_rows,
        total_rows=total_rows,
        add_totals=add_totals,
        linked=linked_columns,
    )
    counts = {r: int((audit["reason"] == r).sum()) for r in REASONS}
    info = {
        "version": 1,
        "table": table,
        "protected": bool(count_columns or magnitude_columns),
        "threshold": int(threshold),
        "suppress_zero": bool(suppress_zero),
        "count_columns": [str(c) for c in count_columns],
        "magnitude_columns": [str(c) for c in magnitude_columns],
        "linked_columns": [str(c) for c in linked_columns],
        "dominance": list(dominance) if dominance and magnitude_columns else None,
        "p_percent": p_percent if magnitude_columns else None,
        "margins": bool(margins),
        "total_columns": [str(c) for c in total_cols],
        "total_rows": [_plain(df.index[p]) for p in total_rows],
        "margins_hidden": any(b.margins_hidden for b in blocks),
        "suppressed": counts,
        "n_suppressed": int(len(audit)),
    }
    return Suppressed(frame=frame, audit=audit, info=info)


def _margin_published(layout: Layout, cell, *, row_out: bool, col_out: bool) -> bool:
    """Is this total cell part of the published frame?"""
    in_total_row = layout.total_row and cell[0] == layout.n_rows
    in_total_col = layout.total_col and cell[1] == layout.n_cols
    return (in_total_row and row_out) or (in_total_col and col_out)


def _protect_block(block: _Block, *, suppress_zero, protection, rel, row_out, col_out) -> None:
    layout = block.layout
    frozen = np.zeros(block.values.shape, dtype=bool)
    for i in range(frozen.shape[0]):
        for j in range(frozen.shape[1]):
            cell = (i, j)
            if layout.is_margin(cell) and not _margin_published(
                layout, cell, row_out=row_out, col_out=col_out
            ):
                frozen[cell] = True  # published elsewhere (or maybe): never hidden here
    if layout.grand is not None:
        frozen[layout.grand] = True

    def required(cell, is_primary):
        value = abs(block.values[cell])
        if block.kind == "count":
            return protection if is_primary else 0.5
        return max(rel * value, 1e-9) if is_primary else max(1e-6 * value, 1e-9)

    lower = 0.0 if (suppress_zero or block.kind != "count") else 1.0
    result = protect(
        block.values, layout, block.primary, frozen=frozen, required=required, lower=lower
    )
    if lower == 1.0 and np.any(block.values[result.mask] == 0):
        # a zero complement was unavoidable: redo the check with the weaker attacker bound
        result = protect(
            block.values, layout, block.primary, frozen=frozen, required=required, lower=0.0
        )
    if result.margins_hidden:
        for i in range(frozen.shape[0]):
            for j in range(frozen.shape[1]):
                if layout.is_margin((i, j)) and _margin_published(
                    layout, (i, j), row_out=row_out, col_out=col_out
                ):
                    if not result.mask[i, j]:
                        result.mask[i, j] = True
                        result.secondary[(i, j)] = "保護幅を確保できないため合計も秘匿"
    block.result = result


def detect_totals(values: np.ndarray) -> tuple[list[int], list[int]]:
    """Positions of a total column and of a total row (each the sum of at least two others)."""
    values = np.asarray(values, dtype=float)
    cols: list[int] = []
    rows: list[int] = []
    n_rows, n_cols = values.shape
    if n_cols >= 3:
        for j in range(n_cols):
            others = np.delete(values, j, axis=1).sum(axis=1)
            if values[:, j].sum() > 0 and np.allclose(values[:, j], others):
                cols = [j]
                break
    inner = np.delete(values, cols, axis=1) if cols else values
    if n_rows >= 3:
        for i in range(n_rows):
            others = np.delete(inner, i, axis=0).sum(axis=0)
            if inner[i].sum() > 0 and np.allclose(inner[i], others):
                rows = [i]
                break
    return cols, rows


def _detect_totals(df: pd.DataFrame, count_columns: list[str]) -> tuple[list[str], list[int]]:
    cols, rows = detect_totals(_matrix(df, count_columns))
    return [count_columns[j] for j in cols], rows


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


def _matrix(df: pd.DataFrame, columns: list[str]) -> np.ndarray:
    values = df[columns].astype("float64").to_numpy(na_value=np.nan)
    return np.where(np.isnan(values), 0.0, values)  # missing cells count as 0 in totals


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


def _publish(df, blocks, *, inner_rows, total_rows, add_totals, linked):
    frame = df.copy()
    protected = [c for b in blocks for c in b.columns] + linked
    protected += [b.total_col_name for b in blocks if b.total_col_name]
    for col in protected:
        frame[col] = frame[col].astype(object)
    text_cols = [
        c
        for c in df.columns
        if c not in protected and not pd.api.types.is_numeric_dtype(df[c].dtype)
    ]
    labels = _row_labels(df, text_cols)
    total_row_pos = total_rows[0] if total_rows else None
    if add_totals:
        total_row_pos = _append_totals(df, frame, blocks, inner_rows, total_row_pos, text_cols)
    audit_rows = []
    for block in blocks:
        n_rows, n_cols = block.layout.n_rows, block.layout.n_cols
        for i, j in zip(*np.nonzero(block.result.mask), strict=True):
            cell = (int(i), int(j))
            pos = inner_rows[cell[0]] if cell[0] < n_rows else total_row_pos
            col = block.columns[cell[1]] if cell[1] < n_cols else block.total_col_name
            if pos is None or col is None:
                continue  # a total that is not part of this frame
            frame.iloc[pos, frame.columns.get_loc(col)] = MARK
            reason, rule = block.primary.get(
                cell, (SECONDARY, block.result.secondary.get(cell, ""))
            )
            audit_rows.append(
                {
                    "row": _plain(frame.index[pos]),
                    "label": labels[pos] if pos < len(labels) else TOTAL_LABEL,
                    "column": str(col),
                    "reason": reason,
                    "rule": rule,
                }
            )
        if block.margins_hidden and not block.margins_out:
            audit_rows.append(
                {
                    "row": TOTAL_LABEL,
                    "label": TOTAL_LABEL,
                    "column": TOTAL_LABEL,
                    "reason": SECONDARY,
                    "rule": "保護幅を確保できないため合計も秘匿（合計を公表しないこと）",
                }
            )
    small_rows = sorted(
        {
            inner_rows[i]
            for b in blocks
            if b.kind == "count"
            for (i, j), (why, _) in b.primary.items()
            if why == PRIMARY_SMALL and i < b.layout.n_rows and j < b.layout.n_cols
        }
    )
    for pos in small_rows:
        for col in linked:
            frame.iloc[pos, frame.columns.get_loc(col)] = MARK
            audit_rows.append(
                {
                    "row": _plain(frame.index[pos]),
                    "label": labels[pos],
                    "column": str(col),
                    "reason": PRIMARY_SMALL,
                    "rule": "人数が少ない行の関連する値（平均・割合など）",
                }
            )
    for col in [c for b in blocks for c in b.columns] + [
        b.total_col_name for b in blocks if b.total_col_name
    ]:
        frame[col] = [v if isinstance(v, str) else _plain_number(v) for v in frame[col]]
    return frame, pd.DataFrame(audit_rows, columns=AUDIT_COLUMNS)


def _append_totals(df, frame, blocks, inner_rows, total_row_pos, text_cols) -> int | None:
    """Add 計 column(s) and, unless the table already has one, a 計 row (in place)."""
    wide = [b for b in blocks if b.layout.total_col and b.total_col_name is None]
    for block in wide:
        name = TOTAL_LABEL if len(wide) == 1 else f"{TOTAL_LABEL}（{_KIND_JA[block.kind]}）"
        block.total_col_name = name
        column: list[Any] = [""] * len(df)
        for i, pos in enumerate(inner_rows):
            column[pos] = _plain_number(block.values[i, block.layout.n_cols])
        if total_row_pos is not None and block.layout.total_row:
            column[total_row_pos] = _plain_number(
                block.values[block.layout.n_rows, block.layout.n_cols]
            )
        frame[name] = pd.Series(column, index=frame.index, dtype=object)
    if total_row_pos is not None or not any(b.layout.total_row for b in blocks):
        return total_row_pos
    total_row: dict[str, Any] = {c: "" for c in frame.columns}
    if text_cols:
        total_row[text_cols[0]] = TOTAL_LABEL
    for block in blocks:
        if not block.layout.total_row:
            continue
        n_rows = block.layout.n_rows
        for j, col in enumerate(block.columns):
            total_row[col] = _plain_number(block.values[n_rows, j])
        if block.total_col_name and block.layout.total_col:
            total_row[block.total_col_name] = _plain_number(
                block.values[n_rows, block.layout.n_cols]
            )
    keep_range = isinstance(df.index, pd.RangeIndex) and bool(text_cols)
    label = len(df) if keep_range else TOTAL_LABEL  # with text columns, 計 goes in the first one
    frame.loc[label] = pd.Series(total_row, dtype=object)
    return len(frame) - 1


def _row_labels(df: pd.DataFrame, text_cols: list[str]) -> list[str]:
    if not text_cols:
        return [str(v) for v in df.index]
    return [" ".join(str(v) for v in row) for row in df[text_cols].itertuples(index=False)]


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
        count_columns, microdata}``) is applied. For microdata tables (one row per person) the
        aggregated count column must be named in ``count_columns``, and every other numeric column
        is hidden with a small count unless ``linked_columns`` says otherwise. Without ``table`` and ``count_columns`` the table is shown as
        not protected (still marked, so the render gate knows it was reviewed).
    count_columns : list of str, optional
        Count columns, overriding the catalog's names (a renamed column). ``[]`` (none of the columns
        are counts) is refused for a table that comes from a protected catalog table — named by
        ``table`` or found in ``df.attrs["tables"]`` (set by ``ebpm.sql``/``ebpm.load``) — since only the
        catalog decides that a table needs no protection.
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
    sources = _sources(df, table)
    rule, synthetic = _combined_rule(sources)
    protected = [t for t in sources if _is_protected(_catalog_rule(t)[0])]
    if (
        protected
        and count_columns is not None
        and not list(count_columns)
        and not options.get("magnitude_columns")
    ):
        raise DisclosureError(
            f"この表は秘匿の対象のテーブル（{'、'.join(protected)}）から作られているため、"
            "count_columns=[] で秘匿処理を外すことはできません。人数の列を count_columns= で指定して"
            "ください（秘匿が要らないかどうかはカタログの disclosure が決めます）",
            table=protected[0],
        )
    table = table or (protected[0] if protected else None)
    if threshold is None:
        threshold = int(rule.get("threshold", DEFAULT_DISCLOSURE_THRESHOLD))
    if rule.get("microdata"):
        if not count_columns:
            raise DisclosureError(
                "このテーブルは1行が1人（1標本）の個票データです。集計して人数の列を作り、"
                "count_columns= でその列を指定してください（平均・割合の列は linked_columns= で指定すると、"
                "人数が少ない行で一緒に秘匿されます）",
                table=table,
            )
        if "linked_columns" not in options:
            # values summarising a few respondents are as revealing as their count
            options["linked_columns"] = [
                c
                for c in df.columns
                if c not in count_columns and pd.api.types.is_numeric_dtype(df[c].dtype)
            ]
    if count_columns is None:
        declared = list(rule.get("count_columns") or [])
        present = [c for c in declared if c in df.columns]
        if declared and not present:
            raise DisclosureError(
                f"秘匿対象の人数の列（{', '.join(declared)}）が表にありません。"
                "列名を変えた場合は count_columns= で人数の列を指定してください。人数の列がない表"
                "（平均・割合だけなど）は、各行の人数の列を加えて count_columns= で指定し、"
                "平均・割合の列を linked_columns= で指定してください",
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


def _sources(df: pd.DataFrame, table: str | None) -> list[str]:
    """Curated tables the numbers come from: ``table`` and those the frame's ``attrs`` name."""
    found = [table] if table else []
    for name in df.attrs.get("tables") or []:
        if name and name not in found:
            found.append(str(name))
    return found


def _is_protected(rule: dict[str, Any]) -> bool:
    """A catalog rule protects a table when it names count or magnitude columns, or is microdata."""
    return bool(rule.get("count_columns") or rule.get("magnitude_columns") or rule.get("microdata"))


def _combined_rule(sources: list[str]) -> tuple[dict[str, Any], bool]:
    """The strictest catalog rule of every source table (a derived table keeps its sources' rules)."""
    rule: dict[str, Any] = {}
    synthetic = False
    counts: list[str] = []
    for name in sources:
        one, synth = _catalog_rule(name)
        synthetic = synthetic or synth
        if "threshold" in one:
            rule["threshold"] = max(int(one["threshold"]), int(rule.get("threshold", 0)))
        counts += [c for c in one.get("count_columns") or [] if c not in counts]
        if one.get("microdata"):
            rule["microdata"] = True
    if counts:
        rule["count_columns"] = counts
    return rule, synthetic


def _catalog_rule(table: str) -> tuple[dict[str, Any], bool]:
    try:
        from ebpm.data.access import table_info
    except ImportError as err:
        raise DisclosureError(
            "整備済みデータベースの情報（ebpm.data.access）を読めないため秘匿ルールを確認できません",
            table=table,
        ) from err
    info = table_info(table)
    return dict(info.get("disclosure") or {}), bool(info.get("synthetic", False))
