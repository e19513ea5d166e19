"""subsidy_application: households near an income threshold, with a known jump in take-up (RDD), and
who received the benefit and a later outcome it moves by a known amount (fuzzy RDD)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ebpm.errors import ParameterError
from ebpm.synth_city.common import table_rng

CUTOFF = 360.0  # 万円: households with income below this are eligible (模擬の制度)
LOW, HIGH = 200.0, 520.0  # 万円: the households in the file
N_HOUSEHOLDS = 6000
BASE_AT_CUTOFF = 0.30  # application probability just above the cutoff (ineligible side)
SLOPE = -0.0012  # per 万円, the same on both sides
CURVE = -0.000002  # per 万円², the same on both sides
AREAS = ("本庁管内", "都南総合支所管内", "玉山総合支所管内")
# fuzzy RDD: only eligible households that applied receive the benefit; receiving it raises the
# probability of using childcare the next fiscal year by BENEFIT_EFFECT, for every household alike
USE_AT_CUTOFF = 0.40  # probability of childcare use at the cutoff without the benefit
USE_SLOPE = -0.0008  # per 万円, the same on both sides
BENEFIT_EFFECT = 0.20


def _base(x: np.ndarray) -> np.ndarray:
    d = x - CUTOFF
    return BASE_AT_CUTOFF + SLOPE * d + CURVE * d**2


def check_setting(jump: float) -> None:
    """Refuse a jump that would push an application probability outside 0–1."""
    if not np.isfinite(jump):
        raise ParameterError("有限の数値で指定してください", parameter="subsidy_jump")
    grid = np.linspace(LOW, CUTOFF, 200)
    p = _base(grid) + jump
    if p.min() < 0 or p.max() > 1:
        raise ParameterError(
            f"申請率の不連続 {jump:+.2f} では、所得が基準未満の世帯の申請確率が0〜1の範囲を超えます"
            f"（指定できる範囲は {-_base(grid).min():+.2f} 〜 {1 - _base(grid).max():+.2f}）",
            parameter="subsidy_jump",
        )


def generate(seed: int, jump: float) -> tuple[pd.DataFrame, dict]:
    """Return (subsidy_application, ground truth for the RDD)."""
    check_setting(jump)
    rng = table_rng(seed, "subsidy_application")
    # smooth density: a wide normal truncated to the window (no bunching at the cutoff)
    income = np.empty(0)
    while income.size < N_HOUSEHOLDS:
        draw = rng.normal(375.0, 110.0, N_HOUSEHOLDS)
        income = np.concatenate([income, draw[(draw >= LOW) & (draw < HIGH)]])
    income = np.round(income[:N_HOUSEHOLDS], 2)  # 100円単位: no mass points
    eligible = income < CUTOFF
    p = _base(income) + np.where(eligible, jump, 0.0)
    applied = rng.random(N_HOUSEHOLDS) < p
    # covariates that move smoothly with income (for balance checks); no jump at the cutoff
    children = 1 + rng.binomial(3, np.clip(0.35 - 0.0003 * (income - CUTOFF), 0.05, 0.95))
    youngest = rng.integers(0, 6, N_HOUSEHOLDS)
    single = rng.random(N_HOUSEHOLDS) < np.clip(0.18 - 0.0006 * (income - CUTOFF), 0.02, 0.6)
    area = rng.choice(AREAS, N_HOUSEHOLDS, p=[0.78, 0.16, 0.06])
    df = pd.DataFrame(
        {
            "income_man_yen": income,
            "eligible": eligible,
            "applied": applied,
            "children": children,
            "youngest_child_age": youngest,
            "single_parent": single,
            "area": area,
        }
    )
    df.insert(0, "household_id", [f"H{k + 1:05d}" for k in rng.permutation(N_HOUSEHOLDS)])
    # drawn after everything above, so the columns above are the same as before these were added
    received = eligible & applied
    p_use = USE_AT_CUTOFF + USE_SLOPE * (income - CUTOFF) + BENEFIT_EFFECT * received
    df["received"] = received
    df["childcare_use"] = rng.random(N_HOUSEHOLDS) < p_use
    df = df.sort_values("household_id").reset_index(drop=True)
    truth = {
        "running_variable": "income_man_yen",
        "cutoff": CUTOFF,
        "unit_running": "万円",
        "outcome": "applied",
        "eligible_side": "below",
        "rule": "所得が基準額（360万円）未満の世帯が対象",
        "jump_eligible_minus_ineligible": round(float(jump), 6),
        "jump_right_minus_left": round(float(-jump), 6),
        "note": (
            "rdrobust と同じ向き（基準値の右側＝所得が高い側 − 左側）では符号が逆になる。"
            "申請確率は両側で同じ滑らかな2次関数に従い、基準値でのみ不連続。操作（申告所得の調整）はない。"
        ),
        "probability_just_above": BASE_AT_CUTOFF,
        "probability_just_below": round(BASE_AT_CUTOFF + float(jump), 6),
        "fuzzy": {
            "treatment": "received",
            "outcome": "childcare_use",
            "rule": "対象（所得360万円未満）で申請した世帯だけが給付を受ける",
            "effect_of_receiving": BENEFIT_EFFECT,
            "first_stage_right_minus_left": round(-(BASE_AT_CUTOFF + float(jump)), 6),
            "note": (
                "給付を受けると翌年度の保育サービス利用の確率が全世帯一律に上がる。ファジーRDD"
                "（結果の段差 ÷ 給付を受ける割合の段差）はこの値を推定する。利用確率はそれ以外では"
                "所得に対して滑らか。"
            ),
        },
    }
    return df, truth
