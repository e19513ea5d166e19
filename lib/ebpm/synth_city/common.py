"""Shared helpers of the 模擬データ generator: per-table RNG, integer allocation, fiscal years, CSV."""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

LABEL = "模擬データ"
FIRST_FY = 2019  # procedure_usage and counter_visit start in FY2019 (令和元年度)
LAST_FY = 2025  # everything ends on 2026-03-31 (令和7年度末)
KPI_FYS = (2021, 2022, 2023, 2024, 2025)  # the DX plan period


def table_rng(seed: int, table: str) -> np.random.Generator:
    """Return an independent generator for one table.

    The child seed depends only on ``seed`` and the table name (not on the order in which tables
    are generated), so changing or adding one table never changes another.

    Parameters
    ----------
    seed : int
        The user's seed.
    table : str
        Table name, e.g. ``"counter_visit"``.
    """
    key = zlib.crc32(table.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(key,)))


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split an integer total into integers proportional to ``weights`` (Hamilton's method).

    The result sums to ``total`` exactly; ties are broken by position, so it is deterministic.

    Parameters
    ----------
    total : int
        Non-negative integer to allocate.
    weights : numpy.ndarray
        Non-negative weights, at least one positive.
    """
    w = np.asarray(weights, dtype=float)
    if total < 0 or (w < 0).any() or w.sum() <= 0:
        raise ValueError("largest_remainder: total >= 0 and positive weights required")
    quota = total * w / w.sum()
    base = np.floor(quota).astype(np.int64)
    short = int(total - base.sum())
    if short:
        order = np.argsort(-(quota - base), kind="stable")
        base[order[:short]] += 1
    return base


def fiscal_year(d: dt.date | pd.Timestamp) -> int:
    """Japanese fiscal year (April–March) of a date: 2026-03-31 → 2025."""
    return d.year if d.month >= 4 else d.year - 1


def fy_end(fy: int) -> dt.date:
    """Last day of a fiscal year (31 March of the following calendar year)."""
    return dt.date(fy + 1, 3, 31)


def month_starts(first_fy: int = FIRST_FY, last_fy: int = LAST_FY) -> pd.DatetimeIndex:
    """First days of every month from April of ``first_fy`` to March after ``last_fy``."""
    return pd.date_range(f"{first_fy}-04-01", f"{last_fy + 1}-03-01", freq="MS")


def write_csv(frame: pd.DataFrame, path: Path, float_format: str = "%.2f") -> None:
    """Write a frame as UTF-8 CSV with "\\n" line ends, booleans as true/false, fixed floats.

    The caller sorts rows; this function only fixes the byte format so that equal frames give
    byte-identical files.
    """
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == bool or str(out[col].dtype) == "boolean":
            out[col] = out[col].map({True: "true", False: "false"}).astype("object")
    out.to_csv(path, index=False, lineterminator="\n", float_format=float_format, encoding="utf-8")


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
