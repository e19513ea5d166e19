"""Cell suppression on a numeric table: primary rules, secondary complements and the LP attacker."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

PRIMARY_SMALL = "一次秘匿（少数）"
PRIMARY_DOMINANCE = "一次秘匿（優越）"
SECONDARY = "二次秘匿"
REASONS = (PRIMARY_SMALL, PRIMARY_DOMINANCE, SECONDARY)
PAIR_RULE = "合計からの逆算防止（行・列の x を2つ以上に）"
LP_RULE = "線形計画法による検証で保護幅が不足したため追加"

Cell = tuple[int, int]


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


# --------------------------------------------------------------------------- the table with its totals


@dataclass(frozen=True)
class Layout:
    """Interior cells plus their totals as one matrix: row totals in the last column, column
    totals in the last row, the grand total in the corner (when both exist)."""

    n_rows: int
    n_cols: int
    total_col: bool  # a column of row totals is published
    total_row: bool  # a row of column totals is published

    @property
    def shape(self) -> tuple[int, int]:
        return self.n_rows + int(self.total_row), self.n_cols + int(self.total_col)

    def is_margin(self, cell: Cell) -> bool:
        return cell[0] >= self.n_rows or cell[1] >= self.n_cols

    @property
    def grand(self) -> Cell | None:
        return (self.n_rows, self.n_cols) if self.total_row and self.total_col else None

    def lines(self) -> list[list[tuple[Cell, float]]]:
        """Each published relation as ``[(cell, coefficient)]`` with ``sum(coef * value) == 0``."""
        rows, cols = self.shape
        out: list[list[tuple[Cell, float]]] = []
        if self.total_col:
            for i in range(rows):
                out.append([((i, j), 1.0) for j in range(self.n_cols)] + [((i, self.n_cols), -1.0)])
        if self.total_row:
            for j in range(cols):
                out.append([((i, j), 1.0) for i in range(self.n_rows)] + [((self.n_rows, j), -1.0)])
        return out


def extend(values: np.ndarray, layout: Layout) -> np.ndarray:
    """Append the totals that ``layout`` publishes to the interior ``values``."""
    out = np.asarray(values, dtype=float)
    if layout.total_col:
        out = np.hstack([out, out.sum(axis=1, keepdims=True)])
    if layout.total_row:
        out = np.vstack([out, out.sum(axis=0, keepdims=True)])
    return out


# --------------------------------------------------------------------------- secondary suppression


def _pair(values: np.ndarray, mask: np.ndarray, lines, frozen: np.ndarray) -> np.ndarray:
    """Hide complements until no relation has exactly one hidden cell (smallest positive first)."""
    mask = mask.copy()
    changed = True
    while changed:
        changed = False
        for line in lines:
            cells = [c for c, _ in line]
            if sum(mask[c] for c in cells) != 1:
                continue
            open_cells = [c for c in cells if not mask[c] and not frozen[c]]
            if not open_cells:
                continue
            positive = [c for c in open_cells if values[c] > 0]
            pick = min(positive or open_cells, key=lambda c: (values[c], c))
            mask[pick] = True
            changed = True
    return mask


def _intervals(
    values: np.ndarray, mask: np.ndarray, lines, lower: float, cells: Iterable[Cell] | None
) -> dict[Cell, tuple[float, float]]:
    """Attacker: [min, max] of hidden cells given every published cell and relation (HiGHS LP)."""
    from scipy.optimize import linprog

    hidden = [(int(i), int(j)) for i, j in zip(*np.nonzero(mask), strict=True)]
    if not hidden:
        return {}
    index = {c: k for k, c in enumerate(hidden)}
    wanted = hidden if cells is None else [c for c in hidden if c in set(cells)]
    a_eq, b_eq = [], []
    for line in lines:
        row = np.zeros(len(hidden))
        known = 0.0
        for cell, coef in line:
            if cell in index:
                row[index[cell]] = coef
            else:
                known += coef * values[cell]
        if row.any():
            a_eq.append(row)
            b_eq.append(-known)
    kwargs: dict = {"bounds": [(lower, None)] * len(hidden), "method": "highs"}
    if a_eq:
        kwargs.update(A_eq=np.array(a_eq), b_eq=np.array(b_eq))
    out: dict[Cell, tuple[float, float]] = {}
    for cell in wanted:
        objective = np.zeros(len(hidden))
        objective[index[cell]] = 1.0
        low = linprog(objective, **kwargs)
        high = linprog(-objective, **kwargs)
        lo = float(low.fun) if low.status == 0 else lower
        hi = float(-high.fun) if high.status == 0 else math.inf
        out[cell] = (lo, hi)
    return out


def _published_layout(values: np.ndarray, rows: bool, cols: bool):
    values = np.asarray(values, dtype=float)
    layout = Layout(values.shape[0], values.shape[1], total_col=rows, total_row=cols)
    full = extend(values, layout)
    frozen = np.zeros(full.shape, dtype=bool)
    for i in range(full.shape[0]):
        for j in range(full.shape[1]):
            frozen[i, j] = layout.is_margin((i, j))
    return layout, full, frozen


def pair_complements(values: np.ndarray, mask: np.ndarray, *, rows: bool, cols: bool) -> np.ndarray:
    """Interior cells only, totals published: add complements until no row/column with a
    published total holds exactly one hidden cell (smallest positive cell first)."""
    layout, full, frozen = _published_layout(values, rows, cols)
    big = np.zeros(full.shape, dtype=bool)
    big[: mask.shape[0], : mask.shape[1]] = mask
    out = _pair(full, big, layout.lines(), frozen)
    return out[: mask.shape[0], : mask.shape[1]]


def feasible_intervals(
    values: np.ndarray,
    mask: np.ndarray,
    *,
    rows: bool,
    cols: bool,
    lower: float = 0.0,
    cells: Iterable[Cell] | None = None,
) -> dict[Cell, tuple[float, float]]:
    """What an attacker learns about hidden interior cells when every row/column total is published.

    Solved by linear programming (``scipy.optimize.linprog``, HiGHS); every cell is ``>= lower``.
    """
    layout, full, _ = _published_layout(values, rows, cols)
    big = np.zeros(full.shape, dtype=bool)
    big[: mask.shape[0], : mask.shape[1]] = mask
    return _intervals(full, big, layout.lines(), lower, cells)


@dataclass
class Protection:
    """Outcome of :func:`protect` on one table (cells index the matrix with its totals)."""

    mask: np.ndarray
    secondary: dict[Cell, str] = field(default_factory=dict)
    margins_hidden: bool = False


def protect(
    values: np.ndarray,
    layout: Layout,
    primary: Iterable[Cell],
    *,
    frozen: np.ndarray,
    required,
    lower: float,
) -> Protection:
    """Secondary suppression verified by the LP attacker.

    Parameters
    ----------
    values : ndarray
        The table with its totals (:func:`extend`).
    layout : Layout
    primary : cells hidden by the primary rules
    frozen : bool ndarray
        Cells that may not be chosen as complements (totals that are published elsewhere, the
        grand total).
    required : callable
        ``required(cell, is_primary) -> float``: the minimum width of the attacker's interval.
    lower : float
        Lower bound the attacker knows for every cell.
    """
    primary = set(primary)
    mask = np.zeros(values.shape, dtype=bool)
    for cell in primary:
        mask[cell] = True
    lines = layout.lines()
    result = Protection(mask=mask)
    if not lines or not mask.any():
        return result
    members: dict[Cell, list[int]] = {}
    for k, line in enumerate(lines):
        for cell, _ in line:
            members.setdefault(cell, []).append(k)
    # Hiding one more cell can only widen what an attacker learns about the others (the old
    # solutions stay feasible), so a cell that passed keeps passing: re-check only the cells
    # that failed and the ones just added.
    to_check = set(primary)
    for _ in range(values.size + 1):
        paired = _pair(values, mask, lines, frozen)
        for i, j in zip(*np.nonzero(paired & ~mask), strict=True):
            cell = (int(i), int(j))
            result.secondary.setdefault(cell, PAIR_RULE)
            to_check.add(cell)
        mask = paired
        found = _intervals(values, mask, lines, lower, to_check)
        failing = sorted(
            (c for c, (lo, hi) in found.items() if hi - lo < required(c, c in primary)),
            key=lambda c: (c not in primary, c),
        )
        if not failing:
            break
        added = _widen(values, mask, lines, members, frozen, failing, required, primary)
        if not added:
            result.margins_hidden = True
            break
        for cell in added:
            mask[cell] = True
            result.secondary[cell] = LP_RULE
        to_check = set(failing) | set(added)
    result.mask = mask
    return result


def _widen(values, mask, lines, members, frozen, failing, required, primary) -> list[Cell]:
    """Pick more cells to hide: at most one per failing cell and per relation in one round.

    Preferred: a cell whose other relation already holds an x (no new chain of complements),
    then a cell at least as large as the protection needed, the smallest such; else the largest.
    """
    added: list[Cell] = []
    touched: set[int] = set()
    for cell in failing:
        if touched.intersection(members.get(cell, [])):
            continue  # a relation of this cell was widened this round; re-check next round
        own = set(members.get(cell, []))
        candidates = {
            c for k in own for c, _ in lines[k] if not mask[c] and not frozen[c] and c not in added
        }
        if not candidates:
            continue
        need = required(cell, cell in primary)

        def cost(c, own=own, need=need):
            others = [k for k in members.get(c, []) if k not in own]
            chain = 0 if all(any(mask[d] for d, _ in lines[k]) for k in others) else 1
            fits = values[c] >= need
            return (chain, not fits, values[c] if fits else -values[c], c)

        pick = min(candidates, key=cost)
        added.append(pick)
        touched.update(members.get(pick, []))
    return added
