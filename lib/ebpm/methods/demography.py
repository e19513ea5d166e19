"""Population profiles: age pyramids, ageing indicators and the cohort-change-ratio projection (コーホート変化率法).

The projection is the Hamilton–Perry method, known in Japan as コーホート変化率法:

* cohort change ratio of the band starting at age ``a`` (width ``s`` years, equal to the step):
  ``R(a) = P(a, t) / P(a − s, t − s)`` for ``a ≥ s``;
* the next population of that band: ``P(a, t + s) = R(a) · P(a − s, t)``;
* the open top band ``A+`` closes the ladder: ``R(A+) = P(A+, t) / (P(A − s, t − s) + P(A+, t − s))`` and
  ``P(A+, t + s) = R(A+) · (P(A − s, t) + P(A+, t))``;
* the youngest band (births in the last ``s`` years) uses the child–woman ratio
  ``CWR = P(0, t) / W(t)`` with ``W`` the women aged 15–49: ``P(0, t + s) = CWR · W(t + s)``, per sex.

Ratios are computed by sex and held at their base-period value for every later step (the one
assumption of the method: the last period's migration and survival carry on). Where a small area has a
zero denominator, the ratio of a reference population (for example the whole city) is used.

References: Hamilton CH, Perry J (1962). A short method for projecting population by age from one
decennial census to another. Social Forces 41(2):163–170. Swanson DA, Schlottmann A, Schmidt B (2010).
Forecasting the population of census tracts by age and sex: an example of the Hamilton–Perry method in
action. Population Research and Policy Review 29:47–63. 内閣府まち・ひと・しごと創生本部（2014）
「地方人口ビジョンの策定のための手引き」（コーホート変化率法の説明）.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ebpm.errors import EstimationError, ParameterError

__all__ = [
    "profile_result",
    "ASSUMPTIONS_JA",
    "ageing_indicators",
    "cohort_change_projection",
    "cohort_change_ratios",
    "pyramid_chart",
]

ASSUMPTIONS_JA = [
    "コーホート変化率法（Hamilton–Perry 法）: 基準期間の5年間に各年齢階級の集団（コーホート）が"
    "5歳上の階級に移るときの増減率（変化率）が、将来も変わらないと仮定する。",
    "変化率には死亡と転入・転出の両方が含まれる。基準期間に大きな転入（住宅開発など）や転出があった"
    "地域では、その動きがそのまま将来に延びる。",
    "0〜4歳は、15〜49歳の女性人口に対する0〜4歳人口の比（婦人子ども比）を基準年の値で固定して求める。",
    "最上位の年齢階級（年齢の上限がない階級）は、一つ下の階級と合わせた集団の変化率で求める。",
    "分母が0になる小さな地域の変化率は、市全体の変化率で置き換える。",
]

SEX_JA = {"male": "男", "female": "女"}


def _check(frame: pd.DataFrame, cols: Sequence[str]) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"列『{missing[0]}』がない（必要な列: {', '.join(cols)}）。", column=missing[0]
        )


def _wide(frame: pd.DataFrame, year: int, by: list[str], age: str, value: str) -> pd.DataFrame:
    part = frame[frame["year"] == year]
    if part.empty:
        raise EstimationError(
            f"{year}年の人口がない（ある年: {', '.join(map(str, sorted(frame['year'].unique())))}）。",
            column="year",
        )
    return part.pivot_table(index=by, columns=age, values=value, aggfunc="sum").sort_index(axis=1)


def cohort_change_ratios(
    frame: pd.DataFrame,
    *,
    base_year: int,
    step: int = 5,
    by: Sequence[str] = ("sex",),
    age: str = "age_from",
    value: str = "population",
    female: str = "female",
) -> pd.DataFrame:
    """Cohort change ratios ``R(a)`` and the child–woman ratio from two years ``step`` apart.

    Parameters
    ----------
    frame : DataFrame
        Long table with ``year``, the ``by`` columns, the lower age of the band (``age``; bands of
        width ``step``, the last one open-ended) and the population (``value``).
    base_year : int
        The later year of the base period (ratios are from ``base_year − step`` to ``base_year``).
    step : int
        Width of the age bands and length of one projection step, in years.
    by : sequence of str
        Columns the ratios are computed within (``sex``).
    age, value : str
        Column names.
    female : str
        Value of ``sex`` for women (the child–woman ratio uses women aged 15–49).

    Returns
    -------
    DataFrame
        Index = the ``by`` groups, columns = band lower ages; the 0 column holds the child–woman
        ratio. Undefined ratios (zero denominators) are NaN.
    """
    by = _by(by)
    _check(frame, ["year", *by, age, value])
    now = _wide(frame, base_year, by, age, value)
    before = _wide(frame, base_year - step, by, age, value).reindex_like(now).fillna(0.0)
    ages = list(now.columns)
    top = ages[-1]
    ratios = pd.DataFrame(index=now.index, columns=ages, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        for a in ages[1:-1]:
            ratios[a] = now[a] / before[a - step]
        ratios[top] = now[top] / (before[top - step] + before[top])
        women = _women(frame[frame["year"] == base_year], by, age, value, female)
        ratios[ages[0]] = now[ages[0]] / women
    return ratios.replace([np.inf, -np.inf], np.nan)


def _by(by: Sequence[str]) -> list[str]:
    if not by:
        raise ParameterError("by には少なくとも1列（例: sex）を指定してください。", parameter="by")
    return list(by)


def _women(part: pd.DataFrame, by: list[str], age: str, value: str, female: str) -> float:
    sex_col = "sex" if "sex" in part.columns else None
    mask = part[age].between(15, 49)
    if sex_col:
        mask &= part[sex_col] == female
    return float(part.loc[mask, value].sum())


def cohort_change_projection(
    frame: pd.DataFrame,
    *,
    base_year: int,
    to_year: int,
    step: int = 5,
    by: Sequence[str] = ("sex",),
    age: str = "age_from",
    value: str = "population",
    female: str = "female",
    reference: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Project a population by age (and sex) with the cohort-change-ratio method (コーホート変化率法).

    Parameters
    ----------
    frame : DataFrame
        Long table: ``year``, ``by`` columns, ``age`` (lower age of 5-year bands, last open),
        ``value``. Must hold ``base_year`` and ``base_year − step``.
    base_year : int
        Launch year of the projection (its population is the starting point).
    to_year : int
        Last year to project; projected years are ``base_year + step``, ``+ 2·step`` … up to it.
    step : int
        Band width and step (5).
    by, age, value, female : str
        As in :func:`cohort_change_ratios`.
    reference : DataFrame, optional
        A larger population (same layout) whose ratios replace undefined ones of ``frame``.

    Returns
    -------
    DataFrame
        Long table ``year``, ``by`` columns, ``age``, ``value``, ``projected`` (False for the base
        year) — the base year and every projected year.

    Raises
    ------
    ParameterError
        ``to_year`` not after ``base_year``.
    EstimationError
        A year of the base period is missing.
    """
    from ebpm.methods._inputs import check_number

    base_year = check_number(base_year, "base_year", integer=True)
    to_year = check_number(to_year, "to_year", integer=True)
    step = check_number(step, "step", integer=True, minimum=1)
    if to_year <= base_year:
        raise ParameterError(
            f"推計の最終年（{to_year}）は基準年（{base_year}）より後にしてください。",
            parameter="to_year",
        )
    by = _by(by)
    ratios = cohort_change_ratios(
        frame, base_year=base_year, step=step, by=by, age=age, value=value, female=female
    )
    if reference is not None:
        ref = cohort_change_ratios(
            reference, base_year=base_year, step=step, by=by, age=age, value=value, female=female
        )
        ratios = ratios.fillna(ref.reindex_like(ratios))
    ratios = ratios.fillna(0.0)  # no reference: an empty cohort stays empty
    current = _wide(frame, base_year, by, age, value).reindex(columns=ratios.columns).fillna(0.0)
    ages = list(current.columns)
    top = ages[-1]
    frames = [_long(current, base_year, by, age, value, projected=False)]
    year = base_year
    while year + step <= to_year:
        nxt = pd.DataFrame(index=current.index, columns=ages, dtype=float)
        for a in ages[1:-1]:
            nxt[a] = ratios[a] * current[a - step]
        nxt[top] = ratios[top] * (current[top - step] + current[top])
        women = _women(
            _long(nxt, year + step, by, age, value, projected=True), by, age, value, female
        )
        nxt[ages[0]] = ratios[ages[0]] * women
        year += step
        frames.append(_long(nxt, year, by, age, value, projected=True))
        current = nxt
    return pd.concat(frames, ignore_index=True)


def _long(
    wide: pd.DataFrame, year: int, by: list[str], age: str, value: str, *, projected: bool
) -> pd.DataFrame:
    out = wide.copy()
    out.columns.name = age
    out = out.stack().rename(value).reset_index()
    out.insert(0, "year", year)
    out["projected"] = projected
    return out


def ageing_indicators(
    frame: pd.DataFrame,
    *,
    age: str = "age_from",
    value: str = "population",
    threshold: int | None = None,
    hidden_ages: Sequence[int] = (),
):
    """Total, ageing rate (65+) and the three age shares of one population.

    Parameters
    ----------
    frame : DataFrame
        Rows of one population (any ``by`` columns are summed over).
    age, value : str
        Lower age of the band and the count.
    threshold : int, optional
        Disclosure threshold: a share whose group count is 1 to ``threshold − 1`` is NaN, since
        share × the published total would give the small count back.
    hidden_ages : sequence of int
        Lower ages of bands suppressed (``x``) in a table published next to the indicators: a share
        whose age group contains one is NaN, so that share × total cannot serve as an extra margin
        for recovering the hidden cells.

    Returns
    -------
    dict
        ``total``, ``share_0_14``, ``share_15_64``, ``share_65_over``, ``share_75_over`` (percent)
        and ``old_age_dependency`` (65+ per 100 aged 15–64).
    """
    _check(frame, [age, value])
    total = float(frame[value].sum())
    young = float(frame.loc[frame[age] < 15, value].sum())
    old = float(frame.loc[frame[age] >= 65, value].sum())
    very_old = float(frame.loc[frame[age] >= 75, value].sum())
    working = total - young - old

    hidden = {int(a) for a in hidden_ages}

    def small(x: float, lo: int, hi: int) -> bool:
        if any(lo <= a <= hi for a in hidden):
            return True
        return threshold is not None and 0 < x < threshold

    def pct(x: float, lo: int, hi: int) -> float:
        return 100.0 * x / total if total and not small(x, lo, hi) else float("nan")

    dependency = (
        100.0 * old / working
        if working and not (small(old, 65, 999) or small(working, 15, 64))
        else None
    )
    return {
        "total": total,
        "share_0_14": pct(young, 0, 14),
        "share_15_64": pct(working, 15, 64),
        "share_65_over": pct(old, 65, 999),
        "share_75_over": pct(very_old, 75, 999),
        "old_age_dependency": float("nan") if dependency is None else dependency,
    }


def pyramid_chart(
    frame: pd.DataFrame,
    *,
    age: str = "age_band",
    sex: str = "sex",
    value: str = "population",
    title: str = "人口ピラミッド",
    source: str | None = None,
    synthetic: bool = False,
    order: Sequence[str] | None = None,
):
    """A population pyramid (men left, women right) from a long table.

    Parameters
    ----------
    frame : DataFrame
        One row per age band × sex; ``value`` may hold ``"x"`` for suppressed cells (drawn as gaps).
    age, sex, value : str
        Columns: the band label, ``male``/``female`` and the count.
    title, source : str
        Chart title and source line.
    synthetic : bool
        Add the 模擬データ notice.
    order : sequence of str, optional
        Band labels from youngest to oldest (default: the order of first appearance).

    Returns
    -------
    altair.Chart
    """
    import altair as alt

    from ebpm.charts.core import PALETTE, enable_theme, with_footer

    enable_theme()
    data = frame[[age, sex, value]].copy()
    data["人口"] = pd.to_numeric(data[value], errors="coerce")
    data["性別"] = data[sex].map(SEX_JA).fillna(data[sex])
    data["表示"] = np.where(data["性別"] == "男", -data["人口"], data["人口"])
    data["年齢"] = data[age].astype(str)
    bands = list(order) if order is not None else list(dict.fromkeys(data["年齢"]))
    m = float(data["人口"].abs().max() or 1.0)
    chart = (
        alt.Chart(data.dropna(subset=["人口"]))
        .mark_bar()
        .encode(
            y=alt.Y("年齢:N", sort=list(reversed(bands)), title="年齢"),
            x=alt.X(
                "表示:Q",
                title="人口（人）　← 男　　女 →",
                scale=alt.Scale(domain=[-m, m]),
                axis=alt.Axis(labelExpr="abs(datum.value)"),
            ),
            color=alt.Color(
                "性別:N", scale=alt.Scale(domain=["男", "女"], range=[PALETTE[0], PALETTE[3]])
            ),
            tooltip=[alt.Tooltip("年齢"), alt.Tooltip("性別"), alt.Tooltip("人口:Q", format=",")],
        )
        .properties(title=title, width=520, height=360)
    )
    return with_footer(chart, source=source, synthetic=synthetic)


def profile_result(
    name: str,
    latest: pd.DataFrame,
    *,
    year: int,
    synthetic: bool = False,
    projected_total: float | None = None,
    projected_year: int | None = None,
):
    """The headline of a population profile as an :class:`~ebpm.result.EstimationResult`.

    ``estimate`` is the population of ``year``; the grade follows the rule for descriptive designs
    (D), and the reasons state that the projection is a scenario under stated assumptions.

    Parameters
    ----------
    name : str
        Area name.
    latest : DataFrame
        The population of ``year`` by band (``age_from``, ``population``).
    year : int
        Its year.
    synthetic : bool
        模擬データ flag.
    projected_total, projected_year : float and int, optional
        The projection's total and year, kept in ``diagnostics``.

    Returns
    -------
    EstimationResult
    """
    from ebpm.methods.grading import descriptive
    from ebpm.result import EstimationResult

    ind = ageing_indicators(latest)
    grading = descriptive(
        [
            "人口は住民基本台帳の集計値で標本誤差はない。将来推計は仮定（コーホート変化率の固定）に基づく"
            "見通しで、予測区間はない。"
        ]
    )
    return EstimationResult(
        method="population_profile",
        method_ja="人口の記述（コーホート変化率法による推計を含む）",
        estimate=ind["total"],
        se=float("nan"),
        ci=(float("nan"), float("nan")),
        pvalue=float("nan"),
        n=int(ind["total"]),
        unit="人",
        outcome_label=f"{name}の人口（{year}年）",
        diagnostics={**ind, "projected_total": projected_total, "projected_year": projected_year},
        grading=grading,
        synthetic=synthetic,
    )
