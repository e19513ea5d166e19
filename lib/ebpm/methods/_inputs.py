"""Boundary checks for the public functions: column names (with did-you-mean), numbers, times and dates.

A planner's wrong input becomes a Japanese :mod:`ebpm.errors` exception that names the argument and
what is allowed, never a raw ``KeyError`` or ``TypeError`` from pandas deep inside an estimator.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ebpm.errors import EstimationError, ParameterError

#: how dates may be written wherever a date is expected (for the Japanese messages)
DATE_FORMS = (
    "日付（2023-10-02、datetime.date、pandas の Timestamp・Period）か和暦（令和5年10月2日）"
)


def suggest(value: Any, candidates: Iterable[Any], n: int = 3) -> str:
    """Japanese "did you mean" clause for an unknown name, or '' when nothing is close.

    >>> suggest("ofice", ["office", "date", "visits"])
    'もしかして「office」ですか？'
    """
    names = [str(c) for c in candidates]
    close = difflib.get_close_matches(str(value), names, n=n, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in names}
        close = [lowered[str(value).lower()]] if str(value).lower() in lowered else []
    if not close:
        return ""
    return "もしかして" + "・".join(f"「{c}」" for c in close) + "ですか？"


def check_column(
    data: pd.DataFrame, column: Any, parameter: str, *, table: str | None = None
) -> str:
    """``column`` must be the name (str) of a column of ``data``; return it.

    Raises
    ------
    ParameterError
        Not a string (for example a list or a Series given instead of a name).
    EstimationError
        No such column; the message lists the columns and the closest names.
    """
    if not isinstance(column, str):
        raise ParameterError(
            f"{parameter} には列の名前を文字列で指定してください（受け取った型: "
            f"{type(column).__name__}）。",
            parameter=parameter,
        )
    if column not in data.columns:
        have = "、".join(map(str, list(data.columns)[:15]))
        more = " …" if len(data.columns) > 15 else ""
        hint = suggest(column, data.columns)
        raise EstimationError(
            f"{parameter} の列「{column}」がデータにありません。{hint}（ある列: {have}{more}）",
            column=column,
            parameter=parameter,
            table=table,
        )
    return column


#: arguments that take a list of columns (all others take one column name)
MULTI_COLUMN = {"covariates", "columns", "predictors", "count_columns", "controls", "peers_by"}


def check_columns(data: pd.DataFrame, **named: Any) -> None:
    """Check several column arguments at once: ``check_columns(df, y=y, unit=unit, covariates=[…])``.

    ``None`` is skipped; arguments in :data:`MULTI_COLUMN` take a list, checked item by item.
    """
    for parameter, value in named.items():
        if value is None:
            continue
        if parameter in MULTI_COLUMN and isinstance(value, (list, tuple)):
            for item in value:
                check_column(data, item, parameter)
        else:
            check_column(data, value, parameter)


def check_number(
    value: Any,
    parameter: str,
    *,
    integer: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: bool = False,
    exclusive_maximum: bool = False,
) -> float | int:
    """``value`` must be a number (not text, not a bool) within the range; return it as float/int.

    Raises
    ------
    ParameterError
        Naming ``parameter``, the kind of number and the allowed range.
    """
    kind = "整数" if integer else "数値"
    lo = "" if minimum is None else f"{minimum:g}{'より大きい' if exclusive_minimum else '以上'}"
    hi = "" if maximum is None else f"{maximum:g}{'未満' if exclusive_maximum else '以下'}"
    rng = "・".join(x for x in (lo, hi) if x)
    allowed = (rng + ("" if rng.endswith("い") else "の") + kind) if rng else kind
    ok_type = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )
    if ok_type and integer and not float(value).is_integer():
        ok_type = False
    if not ok_type:
        hint = ""
        if isinstance(value, str):
            hint = "（文字列ではなく、引用符なしの数で書いてください）"
        raise ParameterError(
            f"{parameter} は{allowed}で指定してください{hint}。受け取った値: {value!r}",
            parameter=parameter,
        )
    number = float(value)
    if not np.isfinite(number):
        raise ParameterError(
            f"{parameter} は有限の{allowed}で指定してください。", parameter=parameter
        )
    too_low = minimum is not None and (number <= minimum if exclusive_minimum else number < minimum)
    too_high = maximum is not None and (
        number >= maximum if exclusive_maximum else number > maximum
    )
    if too_low or too_high:
        raise ParameterError(
            f"{parameter} は{allowed}で指定してください。受け取った値: {value!r}",
            parameter=parameter,
        )
    return int(number) if integer else number


def check_text(value: Any, parameter: str, *, allow_none: bool = True) -> str | None:
    """``value`` must be a string (or None when allowed)."""
    if value is None and allow_none:
        return None
    if not isinstance(value, str):
        raise ParameterError(
            f"{parameter} は文字列で指定してください（受け取った型: {type(value).__name__}）。",
            parameter=parameter,
        )
    return value


def check_bool(value: Any, parameter: str) -> bool:
    """``value`` must be True or False (not the text "true")."""
    if not isinstance(value, (bool, np.bool_)):
        raise ParameterError(
            f"{parameter} は True か False で指定してください。受け取った値: {value!r}",
            parameter=parameter,
        )
    return bool(value)


# --- times and dates -------------------------------------------------------------------------------


def _parse_date_text(text: str) -> pd.Timestamp:
    from ebpm.ingest.wareki import parse_date

    stripped = text.strip()
    try:
        return pd.Timestamp(stripped)
    except (ValueError, TypeError):
        pass
    return pd.Timestamp(parse_date(stripped))


def as_timestamp(value: Any, parameter: str) -> pd.Timestamp:
    """A date-like value as a ``pandas.Timestamp`` (dates, datetimes, periods, ISO or 和暦 text).

    >>> as_timestamp("令和5年10月2日", "start")
    Timestamp('2023-10-02 00:00:00')
    """
    if isinstance(value, pd.Period):
        return value.start_time
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date, np.datetime64)):
        ts = pd.Timestamp(value)
        return ts.tz_localize(None) if ts.tzinfo is not None else ts
    if isinstance(value, str):
        try:
            return _parse_date_text(value)
        except Exception:  # any parser's complaint becomes one Japanese message below
            pass
    raise ParameterError(
        f"{parameter} は{DATE_FORMS}で指定してください。受け取った値: {value!r}",
        parameter=parameter,
    )


def is_time_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def as_time_column(series: pd.Series, column: str | None = None) -> pd.Series:
    """A time column as numbers (unchanged) or ``datetime64`` (dates, datetimes, periods, text).

    Date objects (what older loads returned), ``Period`` values, ISO text (``2023-10-02``,
    ``2023-10``) and 和暦 text (``令和5年10月2日``) all become ``datetime64[ns]``.

    Raises
    ------
    EstimationError
        A value that is neither a number nor a date, naming the column and an example.
    """
    name = column or str(series.name)
    if pd.api.types.is_bool_dtype(series):
        raise EstimationError(
            "時点の列が真偽値（True/False）です。数値（年・通し番号）か日付の列を指定してください。",
            column=name,
        )
    if pd.api.types.is_numeric_dtype(series):
        return series
    if pd.api.types.is_datetime64_any_dtype(series):
        if getattr(series.dt, "tz", None) is not None:
            return series.dt.tz_localize(None)
        return series
    if isinstance(series.dtype, pd.PeriodDtype):
        return series.dt.to_timestamp()
    values = series.dropna().unique()
    mapping: dict[Any, pd.Timestamp] = {}
    for v in values:
        try:
            mapping[v] = as_timestamp(v, name)
        except ParameterError:
            sample = [str(x) for x in values[:3]]
            raise EstimationError(
                f"時点の列は数値（年・通し番号）か{DATE_FORMS}にしてください"
                f"（解釈できない値: 「{v}」、例: {sample}）。",
                column=name,
            ) from None
    out = series.map(mapping)
    return pd.to_datetime(out).astype("datetime64[ns]").rename(series.name)


def match_time(value: Any, times: pd.Series, parameter: str) -> Any:
    """Bring a time argument (``start``, ``treatment_time`` …) to the type of the time column.

    Numbers for a numeric column (text such as ``"2020"`` is refused with a hint), a Timestamp for a
    date column (any form :func:`as_timestamp` reads).
    """
    if pd.api.types.is_datetime64_any_dtype(times):
        if is_time_number(value):
            raise ParameterError(
                f"時点の列が日付なので、{parameter} も{DATE_FORMS}で指定してください。"
                f"受け取った値: {value!r}",
                parameter=parameter,
            )
        return as_timestamp(value, parameter)
    if is_time_number(value):
        return value
    hint = "（文字列ではなく、引用符なしの数で書いてください）" if isinstance(value, str) else ""
    raise ParameterError(
        f"時点の列が数値なので、{parameter} も数値（年・通し番号）で指定してください{hint}。"
        f"受け取った値: {value!r}",
        parameter=parameter,
    )


# --- natural units ---------------------------------------------------------------------------------

_LOG_NAME = __import__("re").compile(r"^(?:np\.)?log1?p?\((\w+)\)$|^log1?p?_(\w+)$")


def log_base(name: Any) -> str | None:
    """The column under a log outcome (``log_visits``, ``np.log(visits)``, ``log1p_visits``), else None."""
    m = _LOG_NAME.match(str(name).replace(" ", ""))
    return (m.group(1) or m.group(2)) if m else None


def percent_change(estimate: float, ci: tuple[float, float]) -> dict[str, float]:
    """A difference in logs as a percentage change: 100·(exp(b) − 1), CI transformed the same way."""
    import math

    return {
        "estimate": 100 * math.expm1(estimate),
        "ci_low": 100 * math.expm1(ci[0]),
        "ci_high": 100 * math.expm1(ci[1]),
    }


def use_log_units(result: Any, data: pd.DataFrame, y: str, outcome_label: str = "") -> Any:
    """Mark a result on a log outcome: % change in ``diagnostics["percent_change"]``, label of the
    column under the log (``log_counter`` → the title of ``counter``), unit ``%``."""
    base = log_base(y)
    if base is None:
        return result
    from ebpm import labels

    result.diagnostics["percent_change"] = percent_change(result.estimate, result.ci)
    if not outcome_label:
        title = labels.title(base, data)
        result.outcome_label = title or base
    result.unit = "%"
    result.details["log_outcome"] = base
    return result
