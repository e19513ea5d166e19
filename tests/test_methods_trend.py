"""linear_projection against statsmodels' OLS prediction intervals (independent implementation)."""

import numpy as np
import pandas as pd
import pytest
from ebpm.errors import ParameterError
from ebpm.methods.trend import linear_projection
from statsmodels.regression.linear_model import OLS


def test_matches_statsmodels_prediction_interval():
    years = [2021, 2022, 2023, 2024, 2025]
    values = [32.6, 53.9, 60.7, 69.7, 77.5]
    got = linear_projection(years, values, to_year=2027)
    x = pd.DataFrame({"const": 1.0, "fy": np.array(years, dtype=float)})
    fit = OLS(np.array(values), x).fit()
    new = pd.DataFrame({"const": 1.0, "fy": [2026.0, 2027.0]})
    ref = fit.get_prediction(new).summary_frame(alpha=0.05)
    # tolerance 1e-8: same model, closed-form t interval vs statsmodels' matrix algebra
    assert got["year"].tolist() == [2026, 2027]
    assert got["value"].to_numpy() == pytest.approx(ref["mean"].to_numpy(), abs=1e-8)
    assert got["lower"].to_numpy() == pytest.approx(ref["obs_ci_lower"].to_numpy(), abs=1e-8)
    assert got["upper"].to_numpy() == pytest.approx(ref["obs_ci_upper"].to_numpy(), abs=1e-8)
    assert got["slope"].iloc[0] == pytest.approx(fit.params["fy"], abs=1e-10)


def test_floor_and_cap_bound_mean_and_interval():
    got = linear_projection([2021, 2022, 2023], [10.0, 60.0, 95.0], to_year=2026, floor=95, cap=100)
    assert (got[["value", "lower", "upper"]] <= 100).all().all()
    assert (got[["value", "lower", "upper"]] >= 95).all().all()


@pytest.mark.parametrize(
    "kwargs, parameter",
    [
        ({"years": [2021], "values": [1.0], "to_year": 2025}, "years"),
        ({"years": [2021, 2022], "values": [1.0], "to_year": 2025}, "years"),
        ({"years": [2021, 2022], "values": [1.0, 2.0], "to_year": 2022}, "to_year"),
        ({"years": [2021, 2022], "values": [1.0, 2.0], "to_year": 2025, "level": 1.5}, "level"),
    ],
)
def test_bad_input_is_refused_in_japanese(kwargs, parameter):
    with pytest.raises(ParameterError) as err:
        linear_projection(**kwargs)
    assert err.value.parameter == parameter
