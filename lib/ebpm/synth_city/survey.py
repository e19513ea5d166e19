"""citizen_survey: a stratified satisfaction survey with sampling weights and non-response."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ebpm.synth_city.common import KPI_FYS, table_rng

AGE_GROUPS = ("18-29", "30-44", "45-64", "65-74", "75+")
SAMPLE_PER_STRATUM = 120  # equal allocation: small strata are over-sampled
# response probability (模擬): young people answer least; the 玉山 area a little more
RESPONSE = {"18-29": 0.22, "30-44": 0.33, "45-64": 0.48, "65-74": 0.62, "75+": 0.52}
RESPONSE_AREA = {"本庁管内": 0.0, "都南総合支所管内": 0.02, "玉山総合支所管内": 0.06}
# latent satisfaction (1–5 scale) by age and area, and its yearly improvement (DX effects)
SAT_AGE = {"18-29": 3.0, "30-44": 3.05, "45-64": 3.2, "65-74": 3.45, "75+": 3.55}
SAT_AREA = {"本庁管内": 0.1, "都南総合支所管内": 0.0, "玉山総合支所管内": -0.25}
SAT_PER_YEAR = 0.05
ONLINE_AGE = {"18-29": 0.55, "30-44": 0.5, "45-64": 0.35, "65-74": 0.18, "75+": 0.08}
ONLINE_PER_YEAR = 0.04
CUTS = np.array([-1.6, -0.6, 0.5, 1.6])  # thresholds of the latent normal → 1…5


def _category_probs(mean: float) -> np.ndarray:
    """Probabilities of answers 1…5 for an ordered-probit latent mean on the 1–5 scale."""
    from scipy.stats import norm

    c = norm.cdf(CUTS - (mean - 3.0))
    return np.diff(np.concatenate([[0.0], c, [1.0]]))


def generate(seed: int, adults: dict[int, pd.DataFrame]) -> tuple[pd.DataFrame, dict]:
    """Return (citizen_survey, ground truth).

    Parameters
    ----------
    adults : dict of int to DataFrame
        For each survey FY, adults by ``area`` and ``age_group`` (column ``adult``) taken from
        population_by_town on 1 January of the calendar year in which the FY starts.
    """
    rng = table_rng(seed, "citizen_survey")
    rows, truth_sat, truth_online = [], {}, {}
    for fy in KPI_FYS:
        pop = adults[fy]
        num_sat = num_on = den = 0.0
        for rec in pop.itertuples(index=False):
            big_n = float(rec.adult)
            mean = SAT_AGE[rec.age_group] + SAT_AREA[rec.area] + SAT_PER_YEAR * (fy - KPI_FYS[0])
            probs = _category_probs(mean)
            p_online = min(0.95, ONLINE_AGE[rec.age_group] + ONLINE_PER_YEAR * (fy - KPI_FYS[0]))
            num_sat += big_n * float(np.dot(np.arange(1, 6), probs))
            num_on += big_n * p_online
            den += big_n
            n = SAMPLE_PER_STRATUM
            responded = rng.random(n) < RESPONSE[rec.age_group] + RESPONSE_AREA[rec.area]
            sat = rng.choice(np.arange(1, 6), n, p=probs)
            online = rng.random(n) < p_online
            online_sat = np.clip(sat + rng.integers(-1, 2, n), 1, 5)
            sex = np.where(rng.random(n) < 0.47, "male", "female")
            r = int(responded.sum())
            design_w = big_n / n
            for k in range(n):
                ok = bool(responded[k])
                rows.append(
                    {
                        "fiscal_year": fy,
                        "area": rec.area,
                        "age_group": rec.age_group,
                        "sex": str(sex[k]),
                        "responded": ok,
                        "design_weight": round(design_w, 4),
                        "weight": round(design_w * n / r, 4) if ok and r else None,
                        "satisfaction": int(sat[k]) if ok else None,
                        "online_used": bool(online[k]) if ok else None,
                        "online_satisfaction": int(online_sat[k]) if ok and online[k] else None,
                    }
                )
        truth_sat[fy] = round(num_sat / den, 4)
        truth_online[fy] = round(num_on / den, 4)
    df = pd.DataFrame(rows)
    df.insert(0, "respondent_id", [f"R{i + 1:06d}" for i in range(len(df))])
    for col in ("satisfaction", "online_satisfaction"):
        df[col] = df[col].astype("Int64")
    df["online_used"] = df["online_used"].astype("boolean")
    truth = {
        "design": "管内（3区分）× 年齢（5区分）の層別無作為抽出、各層120人の等数割当",
        "weights": (
            "design_weight = 層の18歳以上人口 ÷ 層の標本数。weight = design_weight × 標本数 ÷ 回答数"
            "（層内の無回答調整。回答者のみ）"
        ),
        "non_response": "回答確率は年齢と管内で異なり、層内では満足度と無関係（MAR）",
        "population_mean_satisfaction": truth_sat,
        "population_share_online_used": truth_online,
        "scale": "満足度 1（不満）〜 5（満足）",
    }
    return df, truth
