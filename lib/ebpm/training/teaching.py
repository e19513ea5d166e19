"""Teaching datasets shipped under training/data (published evaluations, with provenance)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ebpm.config import paths
from ebpm.errors import DataAccessError

if TYPE_CHECKING:
    import pandas as pd

CARD_KRUEGER_COLUMNS = (
    "sheet chain co_owned state southj centralj northj pa1 pa2 shore ncalls empft emppt nmgrs wage_st "
    "inctime firstinc bonus pctaff meals open hrsopen psoda pfry pentree nregs nregs11 type2 status2 "
    "date2 ncalls2 empft2 emppt2 nmgrs2 wage_st2 inctime2 firstin2 special2 meals2 open2r hrsopen2 "
    "psoda2 pfry2 pentree2 nregs2 nregs112"
).split()
CARD_KRUEGER_CITATION = (
    "Card, D. and Krueger, A. B. (1994) Minimum Wages and Employment: A Case Study of the Fast-Food "
    "Industry in New Jersey and Pennsylvania. American Economic Review 84(4): 772-793（公開データ: David Card 配布）"
)


def card_krueger() -> pd.DataFrame:
    """Card & Krueger (1994) store survey, one row per store (410), with FTE before and after.

    Returns
    -------
    DataFrame
        ``store`` (row number, a unique id), the 46 codebook columns, ``nj`` (1 = New Jersey, 0 = Pennsylvania), ``fte`` and ``fte2``
        (full-time equivalent employment = full-time + managers + 0.5 × part-time, before / after).
        ``attrs`` carries the citation; these are real published data, not 模擬データ.
    """
    import pandas as pd

    file = paths().training / "data" / "card_krueger_1994" / "public.dat"
    if not file.is_file():
        raise DataAccessError("Card & Krueger のデータがありません", file=str(file.name))
    df = pd.read_csv(file, sep=r"\s+", header=None, names=CARD_KRUEGER_COLUMNS, na_values=".")
    df.insert(0, "store", range(1, len(df) + 1))  # ``sheet`` is not unique (a few repeated numbers)
    df["nj"] = df["state"].astype(int)
    df["fte"] = df["empft"] + df["nmgrs"] + 0.5 * df["emppt"]
    df["fte2"] = df["empft2"] + df["nmgrs2"] + 0.5 * df["emppt2"]
    df.attrs.update({"synthetic": False, "source": CARD_KRUEGER_CITATION})
    return df
