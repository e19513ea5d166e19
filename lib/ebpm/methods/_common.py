"""Shared input checks, SE-type wording and Japanese number formatting for the estimators.

Every estimator in :mod:`ebpm.methods` validates its inputs with these helpers so that a planner sees
the same Japanese message for the same mistake, whatever the method.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, get_args

import numpy as np
import pandas as pd

from ebpm.errors import EstimationError, ParameterError

# Few clusters: below WARN the SE is shaky, below STRONG it is unreliable (Cameron & Miller 2015, §VI).
FEW_CLUSTERS_WARN = 30
FEW_CLUSTERS_STRONG = 10
Z95 = 1.959963984540054  # two-sided 95% normal quantile


# --- options ---------------------------------------------------------------------------------------


def check_option(value: Any, allowed: Any, parameter: str) -> str:
    """Validate a string option against a ``Literal`` type (or a sequence of strings).

    Parameters
    ----------
    value : Any
        The value the user passed.
    allowed : Literal type or sequence of str
        The permitted values.
    parameter : str
        Parameter name, used in the Japanese error.

    Returns
    -------
    str
        ``value`` unchanged when allowed.

    Raises
    ------
    ParameterError
        With a Japanese message listing the allowed values.
    """
    from ebpm.methods._inputs import suggest

    choices = tuple(get_args(allowed)) or tuple(allowed)
    try:
        known = value in choices
    except TypeError:  # unhashable (a list or a dict)
        known = False
    if not known:
        listed = "、".join(f"「{c}」" for c in choices)
        hint = suggest(value, choices) if isinstance(value, str) else ""
        raise ParameterError(
            f"「{value}」は指定できません。{listed} のいずれかを指定してください。{hint}",
            parameter=parameter,
        )
    return value


# --- data and columns ------------------------------------------------------------------------------


def require_frame(data: Any, parameter: str = "data") -> pd.DataFrame:
    """Check that ``data`` is a non-empty pandas DataFrame."""
    if not isinstance(data, pd.DataFrame):
        raise ParameterError(
            f"データは pandas の DataFrame で渡してください（受け取った型: {type(data).__name__}）。",
            parameter=parameter,
        )
    if len(data) == 0:
        raise EstimationError("データが0行です。抽出条件を確かめてください。", parameter=parameter)
    return data


def require_columns(
    data: pd.DataFrame, columns: Iterable[str | None], table: str | None = None
) -> None:
    """Raise a Japanese error naming every column that is missing from ``data``."""
    from ebpm.methods._inputs import suggest

    wanted = [c for c in columns if c is not None]
    for c in wanted:
        if not isinstance(c, str):
            raise ParameterError(
                f"列は名前（文字列）で指定してください（受け取った型: {type(c).__name__}）。"
            )
    missing = [c for c in wanted if c not in data.columns]
    if missing:
        have = "、".join(map(str, list(data.columns)[:15]))
        more = " …" if len(data.columns) > 15 else ""
        hint = suggest(missing[0], data.columns)
        raise EstimationError(
            f"列 {'、'.join(f'「{c}」' for c in missing)} がデータにありません。{hint}"
            f"（ある列: {have}{more}）",
            column=missing[0],
            table=table,
        )


def require_numeric(data: pd.DataFrame, column: str, role: str = "結果変数") -> pd.Series:
    """Return ``data[column]`` as float, or raise if it is not numeric (booleans count as 0/1).

    Parameters
    ----------
    data : DataFrame
    column : str
    role : str
        Japanese role of the column for the message (``"結果変数"``, ``"重み"`` …).
    """
    require_columns(data, [column])
    series = data[column]
    if pd.api.types.is_bool_dtype(series):
        return series.astype(float)
    if not pd.api.types.is_numeric_dtype(series):
        sample = series.dropna().astype(str).head(3).tolist()
        raise EstimationError(
            f"{role}は数値である必要がありますが、数値でない値があります（例: {sample}）。"
            "数値に変換してから渡してください。",
            column=column,
        )
    values = series.astype(float)
    if np.isinf(values).any():
        raise EstimationError(f"{role}に無限大の値があります。", column=column)
    return values


def require_binary(data: pd.DataFrame, column: str, role: str) -> pd.Series:
    """Return a 0/1 float column, or raise if it holds values other than 0/1 (missing allowed).

    Text ``true``/``false`` (any case, as CSV files write booleans) is read as 1/0.
    """
    require_columns(data, [column])
    series = data[column]
    if not pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        lowered = series.astype("string").str.strip().str.lower()
        if lowered.dropna().isin(["true", "false"]).all():
            return lowered.map({"true": 1.0, "false": 0.0}).astype(float)
    values = require_numeric(data, column, role)
    bad = values.dropna()
    bad = bad[~bad.isin([0.0, 1.0])]
    if len(bad):
        raise EstimationError(
            f"{role}は0か1で指定してください（0/1以外の値: {sorted(bad.unique().tolist())[:5]}）。",
            column=column,
        )
    return values


def drop_missing(data: pd.DataFrame, columns: Sequence[str], warnings: list[str]) -> pd.DataFrame:
    """Drop rows with a missing value in ``columns``; note the count in ``warnings`` (Japanese)."""
    cols = [c for c in dict.fromkeys(columns) if c is not None]
    kept = data.dropna(subset=cols)
    dropped = len(data) - len(kept)
    if dropped:
        warnings.append(f"欠測のある{dropped:,}行を除いて推定した（全{len(data):,}行中）。")
    if len(kept) == 0:
        raise EstimationError(f"列 {'、'.join(cols)} に欠測のない行がありません。")
    return kept


def close_summary(text: str, res: Any) -> str:
    """End a Japanese summary with the estimator's warnings and the 模擬データ notice."""
    if res.warnings:
        text += "注意: " + " ".join(res.warnings)
    if res.synthetic:
        text += "（模擬データによる結果である。）"
    return text


def title_of(data: Any, column: str) -> str:
    """Japanese title of a column from the catalog, else its name.

    The frame's ``attrs`` (set by ebpm.load/sql) first; after a merge or pivot has dropped them,
    the titles of the curated columns this process has read (:mod:`ebpm.labels`).
    """
    from ebpm import labels

    return labels.title(column, data) or column


def unit_of(data: Any, column: str) -> str:
    """Unit of a column from the catalog (``attrs``, else :mod:`ebpm.labels`), else ''."""
    from ebpm import labels

    return labels.unit(column, data) or ""


def is_synthetic(data: Any, synthetic: bool | None) -> bool:
    """True if the caller says so, the frame carries ``attrs['synthetic']``, or (attrs lost in a
    merge or pivot) one of its columns came from a 模擬データ table read in this process."""
    if synthetic is not None:
        return bool(synthetic)
    from ebpm import labels

    return labels.synthetic(data)


# --- clusters --------------------------------------------------------------------------------------


def cluster_count_check(n_clusters: int, column: str) -> tuple[str | None, int]:
    """Judge the number of clusters for cluster-robust SEs.

    Returns
    -------
    (warning, severity) : (str or None, int)
        A Japanese warning and how many grade steps it costs (0 when there are enough clusters,
        1 below :data:`FEW_CLUSTERS_WARN`, 2 below :data:`FEW_CLUSTERS_STRONG`).
    """
    if n_clusters < 2:
        raise EstimationError(
            f"クラスターが{n_clusters}個しかなく、クラスター頑健標準誤差を計算できません。",
            column=column,
        )
    if n_clusters < FEW_CLUSTERS_STRONG:
        return (
            f"クラスター（{column}）が{n_clusters}個しかなく、クラスター頑健標準誤差は信頼できない"
            f"（{FEW_CLUSTERS_STRONG}個未満）。信頼区間は狭すぎる可能性が高い。",
            2,
        )
    if n_clusters < FEW_CLUSTERS_WARN:
        return (
            f"クラスター（{column}）が{n_clusters}個と少なく（{FEW_CLUSTERS_WARN}個未満）、"
            "標準誤差がやや過小になりうる。",
            1,
        )
    return None, 0


# --- SE wording ------------------------------------------------------------------------------------


def se_type_ja(se: str, n_clusters: int | None = None) -> str:
    """Japanese statement of an SE type: 通常 / 頑健（HC1）/ クラスター頑健（<col>、G=…）."""
    if se == "classical":
        return "通常"
    if se.startswith("HC"):
        return f"頑健（{se}）"
    if se.startswith("cluster:"):
        col = se.split(":", 1)[1]
        g = f"、G={n_clusters:,}" if n_clusters is not None else ""
        return f"クラスター頑健（{col}{g}）"
    return se


def parse_se(se: str, data: pd.DataFrame | None = None) -> tuple[str, str | None]:
    """Validate an ``se`` option; return (kind, cluster column or None).

    ``kind`` is one of ``classical``, ``HC0``–``HC3`` or ``cluster``.
    """
    if not isinstance(se, str):
        raise ParameterError("se は文字列で指定してください。", parameter="se")
    if se.startswith("cluster:"):
        col = se.split(":", 1)[1].strip()
        if not col:
            raise ParameterError(
                "「cluster:列名」の形でクラスターの列を指定してください。", parameter="se"
            )
        if data is not None:
            require_columns(data, [col])
        return "cluster", col
    allowed = ("classical", "HC0", "HC1", "HC2", "HC3")
    if se not in allowed:
        raise ParameterError(
            f"「{se}」は指定できません。classical、HC0、HC1、HC2、HC3、cluster:列名 のいずれかを指定してください。",
            parameter="se",
        )
    return se, None


# --- numbers in Japanese ---------------------------------------------------------------------------


def fmt_num(value: float | None, digits: int = 3) -> str:
    """Format a number for Japanese prose: significant digits, thousands separators, 万/億 for big ones.

    >>> fmt_num(4.137)
    '4.14'
    >>> fmt_num(1794.3)
    '1,794'
    >>> fmt_num(285270)
    '28.5万'
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    v = float(value)
    a = abs(v)
    if a >= 1e12:  # 兆, and never exponent notation however large
        big = v / 1e12
        return f"{big:,.{digits}g}兆" if abs(big) < 10**digits else f"{big:,.0f}兆"
    if a >= 1e8:
        return f"{v / 1e8:,.{digits}g}億"
    if a >= 1e5:
        return f"{v / 1e4:,.{digits}g}万"
    if a >= 10 ** (digits - 1):
        return f"{v:,.0f}"
    if a == 0:
        return "0"
    decimals = max(digits - 1 - int(math.floor(math.log10(a))), 0)
    text = f"{v:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def fmt_p(p: float | None) -> str:
    """Format a p-value: p<0.001, p=0.012, p=0.41."""
    if p is None or not math.isfinite(p):
        return "p=—"
    if p < 0.001:
        return "p<0.001"
    if p < 0.1:  # near the conventional thresholds show three decimals
        return f"p={p:.3f}"
    return f"p={p:.2f}"


# --- directions in words (no minus signs in prose) ------------------------------------------------

# natural-unit words: time outcomes get shorter/longer, counts fewer/more
TIME_UNITS = frozenset({"分", "秒", "時間", "日"})


def direction_words(unit: str) -> tuple[str, str, str, str]:
    """(down, up, decrease noun, increase noun) for an outcome measured in ``unit``."""
    if unit in TIME_UNITS:
        return "短く", "長く", "短縮", "延長"
    return "少なく", "多く", "減少", "増加"


def fmt_decimal(value: float) -> str:
    """One decimal for small magnitudes (minutes, %), thousands separators for large ones.

    >>> fmt_decimal(4.137)
    '4.1'
    >>> fmt_decimal(23456.7)
    '23,457'
    """
    return f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"


def change_words(
    value: float,
    unit: str = "",
    *,
    less: str | None = None,
    more: str | None = None,
    particle: str = "の",
    num: Callable[[float], str] = fmt_decimal,
) -> str:
    """A signed change in words, with no minus sign: ``-3.2`` → ``3.2ポイントの減少``.

    Parameters
    ----------
    value : float
        The change (negative = a fall).
    unit : str
        Natural unit written after the number.
    less, more : str, optional
        Words for a fall and a rise; default from the unit (短縮/延長 for time, else 減少/増加).
    particle : str
        Between the number and the word: ``"の"`` for nouns (3.2分の短縮), ``""`` for adjectives
        (3.2%ポイント低い).
    num : callable
        Number formatter for the magnitude (default :func:`fmt_decimal`; :func:`fmt_num` for 万/億).
    """
    _, _, down, up = direction_words(unit)
    word = (less or down) if value < 0 else (more or up)
    return f"{num(abs(value))}{unit}{particle}{word}"


def change_range(
    lo: float,
    hi: float,
    unit: str = "",
    *,
    less: str | None = None,
    more: str | None = None,
    particle: str = "の",
    num: Callable[[float], str] = fmt_decimal,
) -> str:
    """An interval of changes in words, positive numbers only: the one formatter of intervals in prose.

    Both ends below zero: 「48.4〜62.6件の減少」; both above: 「3.1〜5.3分の延長」; across zero both
    sides are named: 「1.2分の短縮から0.8分の延長まで」. Arguments as :func:`change_words`.

    >>> change_range(-62.6, -48.4, "件")
    '48.4〜62.6件の減少'
    >>> change_range(-36.7, -15.7, "%ポイント", less="低い", more="高い", particle="")
    '15.7〜36.7%ポイント低い'
    """
    _, _, down, up = direction_words(unit)
    less, more = less or down, more or up
    if hi < 0:
        return f"{num(abs(hi))}〜{num(abs(lo))}{unit}{particle}{less}"
    if lo > 0:
        return f"{num(lo)}〜{num(hi)}{unit}{particle}{more}"
    return (
        f"{change_words(lo, unit, less=less, more=more, particle=particle, num=num)}から"
        f"{change_words(hi, unit, less=less, more=more, particle=particle, num=num)}まで"
    )


def effect_phrase(
    estimate: float,
    ci: tuple[float, float],
    unit: str = "",
    outcome: str = "",
    *,
    up: str = "増えた",
    down: str = "減った",
    about: bool = True,
) -> str:
    """Japanese headline for an effect in natural units, direction first, CI after.

    The interval is said in words with positive numbers (:func:`change_range`), never with minus signs.

    >>> effect_phrase(-4.1, (-5.0, -3.2), "分", "待ち時間", up="長くなった", down="短くなった")
    '待ち時間は平均で約4.1分短くなった（95%信頼区間は3.2〜5分の短縮）'
    """
    what = f"{outcome}は" if outcome else ""
    word = up if estimate >= 0 else down
    approx = "約" if about else ""
    lo, hi = ci
    return (
        f"{what}平均で{approx}{fmt_num(abs(estimate))}{unit}{word}"
        f"（95%信頼区間は{change_range(lo, hi, unit, num=fmt_num)}）"
    )


def ci_sentence(ci: tuple[float, float]) -> str:
    """Japanese sentence on whether the CI excludes zero (how sure we are, without a p headline)."""
    lo, hi = ci
    if lo > 0 or hi < 0:
        return "95%信頼区間は0を含まず、効果がないとは考えにくい。"
    return "95%信頼区間は0を含んでおり、効果がない可能性も否定できない。"


# --- periods ---------------------------------------------------------------------------------------


def _zero_means_never(data: pd.DataFrame, time: str, first_treated: str | None) -> pd.DataFrame:
    """Read a first-treated value of 0 as "never treated" (NaN), the convention of csdid and R's did.

    Only when 0 cannot be a real period, i.e. every observed time is positive.
    """
    if first_treated is None or not pd.api.types.is_numeric_dtype(data[first_treated]):
        return data
    times = data[time]
    if not pd.api.types.is_numeric_dtype(times) or not (data[first_treated] == 0).any():
        return data
    if times.min() <= 0:
        return data
    out = data.copy()
    out[first_treated] = out[first_treated].astype(float).where(out[first_treated] != 0)
    return out


def to_periods(data: pd.DataFrame, time: str, first_treated: str | None = None) -> pd.DataFrame:
    """Turn a date-valued ``time`` (and ``first_treated``) column into period numbers 0, 1, 2, ….

    A first-treated value of 0 with positive times means never treated (csdid / R ``did``
    convention) and becomes NaN. Numeric columns are otherwise returned unchanged. Dates (datetime or ISO strings such as ``2021-10-01``)
    become the position of each distinct date in sorted order, so monthly data count months; a
    first-treated date between two observed dates counts from the next observed one.
    """
    from ebpm.methods._inputs import as_time_column

    require_columns(data, [time, first_treated])
    data = _zero_means_never(data, time, first_treated)
    col = data[time]
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        return data
    parsed = as_time_column(col, time)  # dates, datetimes, periods, ISO or 和暦 text
    levels = np.sort(parsed.dropna().unique())
    out = data.copy()
    out[time] = np.searchsorted(levels, parsed.to_numpy()).astype(float)
    out.loc[parsed.isna(), time] = np.nan
    if first_treated is not None and not pd.api.types.is_numeric_dtype(data[first_treated]):
        try:
            first = as_time_column(data[first_treated], first_treated)
        except EstimationError as err:
            raise EstimationError(
                "介入開始時点は時点と同じ形（日付）で指定してください。", column=first_treated
            ) from err
        if not pd.api.types.is_datetime64_any_dtype(first):
            raise EstimationError(
                "時点の列が日付なので、介入開始時点も日付で指定してください（数値が入っています）。",
                column=first_treated,
            )
        pos = np.searchsorted(levels, first.to_numpy()).astype(float)
        out[first_treated] = np.where(first.isna(), np.nan, pos)
    return out
