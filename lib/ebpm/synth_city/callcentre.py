"""call_centre: daily inquiries FY2021–FY2025 with an AI chatbot launch (known level and slope change)."""

from __future__ import annotations

import datetime as dt

import holidays
import numpy as np
import pandas as pd

from ebpm.errors import ParameterError
from ebpm.synth_city.common import KPI_FYS, fiscal_year, table_rng

LAUNCH = dt.date(2023, 10, 2)  # 24時間AIチャットボット 運用開始（模擬）
BASE_WEEKDAY = 330.0  # expected inquiries on an ordinary weekday at the start (模擬)
TREND_PER_YEAR = -0.02  # log scale
WEEKDAY_FACTOR = np.array([1.18, 1.0, 0.97, 0.97, 1.02, 0.42, 0.33])  # Mon … Sun
HOLIDAY_FACTOR = 0.38
YEAR_END_FACTOR = 0.25  # 12/29–1/3
DISPERSION = 80.0  # gamma-Poisson shape: variance = mu + mu^2 / DISPERSION
WEEKDAY_JA = ("月", "火", "水", "木", "金", "土", "日")


def check_setting(level_change: float, slope_change: float) -> None:
    """Refuse a chatbot effect that would make the expected number of inquiries zero or negative."""
    for name, v in (("chatbot_level_change", level_change), ("chatbot_slope_change", slope_change)):
        if not np.isfinite(v):
            raise ParameterError("有限の数値で指定してください", parameter=name)
    if level_change <= -1.0:
        raise ParameterError(
            f"チャットボット導入の水準変化 {level_change:+.0%} では問い合わせ件数が0件以下になります"
            "（-100%より大きい値、例えば -0.2 = 20%減 を指定してください）",
            parameter="chatbot_level_change",
        )
    if level_change > 2.0 or abs(slope_change) > 1.0:
        raise ParameterError(
            "チャットボット導入の効果が大きすぎます（水準変化は +200% 以下、傾きの変化は年±100% 以内）",
            parameter="chatbot_level_change" if level_change > 2.0 else "chatbot_slope_change",
        )


def generate(seed: int, level_change: float, slope_change: float) -> tuple[pd.DataFrame, dict]:
    """Return (call_centre, ground truth for the ITS).

    ``level_change`` is the proportional jump at launch (-0.18 = 18% fewer inquiries);
    ``slope_change`` is the change in the yearly growth rate after launch on the log scale
    (-0.10 = the trend falls by about 10% a year more than before).
    """
    check_setting(level_change, slope_change)
    rng = table_rng(seed, "call_centre")
    days = pd.date_range(f"{KPI_FYS[0]}-04-01", f"{KPI_FYS[-1] + 1}-03-31", freq="D")
    jp = holidays.Japan(years=range(KPI_FYS[0], KPI_FYS[-1] + 2))
    years = (days - pd.Timestamp(f"{KPI_FYS[0]}-04-01")).days.to_numpy() / 365.25
    doy = days.day_of_year.to_numpy() / 365.25 * 2 * np.pi
    dow = days.day_of_week.to_numpy()
    names = [jp.get(d.date()) or "" for d in days]
    is_holiday = np.array([bool(x) for x in names])
    year_end = np.array(
        [(d.month == 12 and d.day >= 29) or (d.month == 1 and d.day <= 3) for d in days]
    )
    # yearly pattern: moving season (March–April) and tax/insurance notices (June)
    yearly = 0.10 * np.cos(doy - 2 * np.pi * 95 / 365.25) + 0.06 * np.cos(
        2 * (doy - 2 * np.pi * 160 / 365.25)
    )
    log_mu = (
        np.log(BASE_WEEKDAY)
        + TREND_PER_YEAR * years
        + np.log(WEEKDAY_FACTOR[dow])
        + np.where(is_holiday & (dow < 5), np.log(HOLIDAY_FACTOR / WEEKDAY_FACTOR[dow]), 0.0)
        + np.where(year_end, np.log(YEAR_END_FACTOR), 0.0)
        + yearly
    )
    since = (days - pd.Timestamp(LAUNCH)).days.to_numpy()
    post = since >= 0
    effect_log = np.where(post, np.log1p(level_change) + slope_change * since / 365.25, 0.0)
    mu0 = np.exp(log_mu)
    mu = np.exp(log_mu + effect_log)
    lam = rng.gamma(DISPERSION, mu / DISPERSION)
    inquiries = rng.poisson(lam)
    uptake = np.clip((since + 30) / 120, 0.0, 1.0)
    sessions = np.where(post, rng.poisson(mu0 * 0.35 * uptake), 0)
    data = pd.DataFrame(
        {
            "date": days.strftime("%Y-%m-%d"),
            "fiscal_year": [fiscal_year(d) for d in days],
            "weekday": [WEEKDAY_JA[k] for k in dow],
            "is_holiday": is_holiday,
            "holiday_name": [x or None for x in names],
            "chatbot": post,
            "inquiries": inquiries,
            "chatbot_sessions": sessions,
        }
    )
    first_month = post & (since < 30)
    truth = {
        "launch_date": LAUNCH.isoformat(),
        "outcome": "inquiries",
        "unit": "件/日",
        "model": (
            "log 期待件数 = 定数 + 年次トレンド + 曜日 + 祝日 + 年末年始 + 年周期"
            " + 導入後の水準変化 + 導入後の傾き変化（ガンマ・ポアソン混合）"
        ),
        "level_change_ratio": round(float(1 + level_change), 6),
        "level_change_log": round(float(np.log1p(level_change)), 6),
        "slope_change_log_per_year": round(float(slope_change), 6),
        "slope_change_log_per_month": round(float(slope_change / 12), 6),
        "slope_change_log_per_day": round(float(slope_change / 365.25), 8),
        "pre_trend_log_per_year": TREND_PER_YEAR,
        "first_30_days_expected_change_per_day": round(float((mu - mu0)[first_month].mean()), 3),
        "post_period_expected_change_per_day": round(float((mu - mu0)[post].mean()), 3),
        "dispersion_shape": DISPERSION,
        "holidays_source": "Python ライブラリ holidays の holidays.Japan（日本の祝日）",
    }
    return data, truth
