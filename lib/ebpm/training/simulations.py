"""Small 模擬データ simulations for the causal-basics lesson, with a true effect the exercises check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ebpm.errors import ParameterError

if TYPE_CHECKING:
    import pandas as pd

# the true effect of the workshop on yearly online applications (回/年); exercises are graded against it
WORKSHOP_EFFECT = 1.2


def workshop_study(n: int = 2000, *, randomised: bool = True, seed: int = 1) -> pd.DataFrame:
    """模擬データ: citizens, a digital-skills workshop (講習会) and their online applications per year.

    Parameters
    ----------
    n : int
        Number of citizens (at least 50).
    randomised : bool
        ``True``: a lottery decides who is invited and attends. ``False``: people choose, and those with
        more ``digital_skill`` attend more often (self-selection, a confounder).
    seed : int
        Random seed (same seed, same data).

    Returns
    -------
    DataFrame
        ``age``, ``digital_skill`` (0–10), ``workshop`` (0/1), ``online_uses`` (回/年).
        ``attrs["synthetic"]`` is ``True``. The true effect is not part of the frame.
    """
    import numpy as np
    import pandas as pd

    if not isinstance(n, int) or n < 50:
        raise ParameterError(f"n は50以上の整数です（{n!r}）", parameter="n")
    rng = np.random.default_rng(seed)
    age = rng.integers(20, 85, size=n)
    skill = np.clip(rng.normal(7.5 - 0.06 * (age - 20), 1.5), 0, 10)
    if randomised:
        workshop = rng.binomial(1, 0.5, size=n)
    else:
        p = 1 / (1 + np.exp(-(skill - 5.0) * 0.9))
        workshop = rng.binomial(1, p)
    uses = 0.8 * skill - 0.02 * (age - 50) + WORKSHOP_EFFECT * workshop + rng.normal(0, 1.5, size=n)
    frame = pd.DataFrame(
        {
            "age": age,
            "digital_skill": skill.round(2),
            "workshop": workshop,
            "online_uses": uses.round(2),
        }
    )
    frame.attrs["synthetic"] = True
    return frame
