"""団体コード (JIS X 0402 / 全国地方公共団体コード): 5↔6 digits, check digit, merged municipalities.

- 団体コード（5桁）: 2-digit prefecture + 3-digit municipality (盛岡市 = ``03201``).
- 全国地方公共団体コード（6桁）: the 5 digits plus a check digit (盛岡市 = ``032018``).

The check digit: multiply the five digits by 6, 5, 4, 3, 2, add them, take the remainder by 11 and
subtract it from 11; the check digit is the last digit of that number (11 → 1, 10 → 0).

Shipped tables
--------------
``assets/lgcode.csv``
    The codes in force (prefectures, municipalities, 政令市の区), derived from デジタル庁
    「アドレス・ベース・レジストリ」町字マスター系の全国地方公共団体コード一覧 (``lgcode.csv`` in
    code4fukui/address-japan @ a3a706c1457e86255a1e4bf3fa544934b4c87738; PDL 1.0 / CC BY 4.0 互換).
:data:`RETIRED`
    Retired codes of merged or renamed municipalities with their successors, each with its source.
"""

from __future__ import annotations

import csv
import datetime as _dt
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ebpm.errors import IngestError

_WEIGHTS = (6, 5, 4, 3, 2)
_ASSET = Path(__file__).resolve().parent.parent / "assets" / "lgcode.csv"


@dataclass(frozen=True)
class Retired:
    """A code that stopped being used on ``date``; ``new`` took over from that day."""

    old: str
    old_name: str
    new: str
    new_name: str
    date: _dt.date
    reason: str
    source: str


_CENSUS_2010 = (
    "国勢調査2010（総務省統計局）岩手県市町村別人口: beakoda/iwate-data "
    "@ a924c4a2a9c60e2a1aa5b0e7fb1a3478af9ba6e3 raw/census_2010_p1.csv"
)

RETIRED: tuple[Retired, ...] = (
    Retired(
        "03305",
        "岩手郡滝沢村",
        "03216",
        "滝沢市",
        _dt.date(2014, 1, 1),
        "市制施行",
        _CENSUS_2010 + "（03305 滝沢村）; 住民基本台帳 2013–2026 population_2013_2026.csv "
        "（2013年は 03305、2014年以降は 03216）; 総務省「市町村合併・市制施行等の状況」",
    ),
    Retired(
        "03422",
        "東磐井郡藤沢町",
        "03209",
        "一関市",
        _dt.date(2011, 9, 26),
        "編入合併",
        _CENSUS_2010 + "（03422 藤沢町）; 総務省「市町村合併・市制施行等の状況」",
    ),
)
_RETIRED_BY_OLD = {r.old: r for r in RETIRED}


def _digits(code: str | int, parameter: str = "code") -> str:
    if isinstance(code, bool) or not isinstance(code, (str, int)):
        raise IngestError(
            f"団体コードは文字列か整数で指定してください（{type(code).__name__}）",
            parameter=parameter,
        )
    text = str(code)
    s = unicodedata.normalize("NFKC", text).strip().replace("-", "").replace(" ", "")
    if s.endswith(".0"):  # a code read from Excel as a float
        s = s[:-2]
    if not s.isdigit() or not s.isascii():
        raise IngestError(f"団体コード「{text}」が数字ではありません", parameter=parameter)
    return s


def check_digit(code5: str | int) -> int:
    """Check digit of a 5-digit 団体コード.

    Parameters
    ----------
    code5 : str or int
        Five digits (a lost leading zero is restored: ``3201`` → ``03201``).

    Returns
    -------
    int
        ``check_digit("03201")`` → 8.
    """
    s = _digits(code5, "code5")
    if len(s) == 4:
        s = "0" + s
    if len(s) != 5:
        raise IngestError(
            f"団体コード「{code5}」は5桁ではありません（{len(s)}桁）", parameter="code5"
        )
    total = sum(int(d) * w for d, w in zip(s, _WEIGHTS, strict=True))
    return (11 - total % 11) % 10


def is_valid_code6(code: str | int) -> bool:
    """True when ``code`` is exactly 6 digits (no repair) and the last one is the right check digit."""
    try:
        s = _digits(code)
    except IngestError:
        return False
    return len(s) == 6 and int(s[5]) == check_digit(s[:5])


@lru_cache(maxsize=1)
def known_codes() -> dict[str, tuple[str, str]]:
    """The codes in force: 6-digit code → (prefecture, name), from the shipped ``lgcode.csv``."""
    with _ASSET.open(encoding="utf-8", newline="") as f:
        return {r["code6"]: (r["prefecture"], r["name"]) for r in csv.DictReader(f)}


def _known5() -> set[str]:
    return {c[:5] for c in known_codes()}


def to_code6(code: str | int) -> str:
    """Normalise to the 6-digit 全国地方公共団体コード with its check digit.

    Accepts 6 digits (the check digit is verified), 5 digits (the check digit is added), ints and
    strings that lost their leading zero (``3201`` → ``032018``, ``10006`` → ``010006``) and
    full-width digits (``０３２０１``).

    Raises
    ------
    IngestError
        For non-digits, a wrong length or a wrong check digit.
    """
    s = _digits(code)
    if len(s) == 6:
        if int(s[5]) != check_digit(s[:5]):
            raise IngestError(
                f"全国地方公共団体コード「{code}」の検査数字が合いません"
                f"（{s[:5]} の検査数字は {check_digit(s[:5])}）",
                parameter="code",
            )
        return s
    if len(s) == 5:
        padded = "0" + s
        known = known_codes()
        if s not in _known5() and padded in known:
            return padded  # a 6-digit code that lost its leading zero (Excel, integer columns)
        return s + str(check_digit(s))
    if len(s) == 4:
        s = "0" + s
        return s + str(check_digit(s))
    raise IngestError(
        f"団体コード「{code}」の桁数が合いません（{len(s)}桁。5桁または6桁で指定してください）",
        parameter="code",
    )


def to_code5(code: str | int) -> str:
    """Normalise to the 5-digit 団体コード (same inputs as :func:`to_code6`)."""
    return to_code6(code)[:5]


def name_of(code: str | int) -> str:
    """``"03201"`` → ``"岩手県盛岡市"``; retired codes give their old name."""
    c6 = to_code6(code)
    hit = known_codes().get(c6)
    if hit:
        pref, name = hit
        return pref if pref == name else pref + name
    retired = _RETIRED_BY_OLD.get(c6[:5])
    if retired:
        return retired.old_name
    raise IngestError(f"団体コード「{code}」は一覧にありません", parameter="code")


def _as_date(on_date: _dt.date | str | None) -> _dt.date | None:
    if on_date is None or isinstance(on_date, _dt.date):
        return on_date
    from ebpm.ingest.wareki import parse_date

    return parse_date(on_date)


def successor(code5: str | int, on_date: _dt.date | str | None = None) -> str:
    """The 5-digit code in force on ``on_date`` for a (possibly retired) 団体コード.

    Parameters
    ----------
    code5 : str or int
        5- or 6-digit code.
    on_date : date or str, optional
        ``None`` means today: a retired code always maps to its latest successor. A date before the
        change returns the old code (it was still in force).

    Returns
    -------
    str
        ``successor("03305")`` → ``"03216"``; ``successor("03305", "2013-12-31")`` → ``"03305"``.

    Raises
    ------
    IngestError
        When the code is neither in force (``assets/lgcode.csv``) nor in :data:`RETIRED`.
    """
    current = to_code5(code5)
    when = _as_date(on_date)
    seen = set()
    while current in _RETIRED_BY_OLD:
        if current in seen:  # pragma: no cover - guards a malformed table
            raise IngestError(f"廃止コード表が循環しています（{current}）")
        seen.add(current)
        change = _RETIRED_BY_OLD[current]
        if when is not None and when < change.date:
            return current
        current = change.new
    if current not in _known5():
        raise IngestError(
            f"団体コード「{code5}」は現行の全国地方公共団体コード一覧にも廃止コード表にもありません",
            parameter="code5",
        )
    return current
