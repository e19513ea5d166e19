"""和暦 (Japanese era) dates and fiscal years: parse, validate and format alongside 西暦.

Accepted forms (full-width digits and the era ligatures ㋿ ㍻ ㍼ ㍽ ㍾ are normalised first):

- ``令和2年4月1日``, ``令和元年5月1日``, ``令和２年４月１日``, ``平成 31 年 4 月 30 日``
- abbreviated ``H26.12.28``, ``R2.4.1``, ``S64.1.7``, ``R02/04/01`` (letters M T S H R, either case)
- 西暦 ``2025/1/1``, ``2025-01-01``, ``2025.1.1``, ``2022年1月1日``, ``20220101``
- fiscal years ``平成7年度``, ``令和元年度``, ``2025年度``, ``FY2025``, ``令和7年度（2025年度）``

A date outside its era (``平成31年5月1日``, ``平成32年1月1日``, ``昭和64年1月8日``) is refused with a
Japanese :class:`~ebpm.errors.IngestError` that names the era's last day. Dates before 明治6年
(1873-01-01, the adoption of the Gregorian calendar) are refused because they are 旧暦 dates.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from dataclasses import dataclass

from ebpm.errors import IngestError


@dataclass(frozen=True)
class Era:
    """One era: name, abbreviation letter, first and last day (``None`` = current era)."""

    name: str
    letter: str
    start: _dt.date
    end: _dt.date | None

    def max_year(self) -> int | None:
        return None if self.end is None else self.end.year - self.start.year + 1


ERAS: tuple[Era, ...] = (
    Era("令和", "R", _dt.date(2019, 5, 1), None),
    Era("平成", "H", _dt.date(1989, 1, 8), _dt.date(2019, 4, 30)),
    Era("昭和", "S", _dt.date(1926, 12, 25), _dt.date(1989, 1, 7)),
    Era("大正", "T", _dt.date(1912, 7, 30), _dt.date(1926, 12, 24)),
    Era("明治", "M", _dt.date(1868, 10, 23), _dt.date(1912, 7, 29)),
)
_BY_KEY = {e.name: e for e in ERAS} | {e.letter: e for e in ERAS}
GREGORIAN_START = _dt.date(1873, 1, 1)  # 明治6年1月1日: the solar calendar replaced 旧暦

_ERA_ALT = "|".join([e.name for e in ERAS] + [e.letter for e in ERAS])
_YEAR = r"(\d{1,2}|元)"
_WAREKI_KANJI = re.compile(rf"^({_ERA_ALT})\.?{_YEAR}年(\d{{1,2}})月(\d{{1,2}})日$")
_WAREKI_SHORT = re.compile(rf"^({_ERA_ALT})\.?{_YEAR}([./-])(\d{{1,2}})\3(\d{{1,2}})$")
_WESTERN_SEP = re.compile(r"^(\d{4})([./-])(\d{1,2})\2(\d{1,2})$")
_WESTERN_KANJI = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_WESTERN_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_WAREKI_YEAR = re.compile(rf"({_ERA_ALT})\.?{_YEAR}年(度)?")
_WESTERN_YEAR = re.compile(r"(?<!\d)(\d{4})年(度)?")
_FY_PREFIX = re.compile(r"^FY(\d{4})$")


def _clean(text: str) -> str:
    """NFKC (full-width digits, ㋿ → 令和), upper-case letters, no spaces."""
    if not isinstance(text, str):
        raise IngestError(
            f"日付として文字列を渡してください（{type(text).__name__} が渡されました）"
        )
    norm = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", "", norm).upper()


def _ymd(d: _dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _era(key: str) -> Era:
    return _BY_KEY[key]


def _year_num(token: str) -> int:
    return 1 if token == "元" else int(token)


def era_year_to_western(era: str, year: int | str) -> int:
    """``("平成", 7)`` → 1995; checks that the era had that year."""
    e = _era(era)
    y = _year_num(str(year)) if isinstance(year, str) else year
    if y < 1:
        raise IngestError(f"{e.name}{y}年はありません（元年 = 1年から数えます）")
    top = e.max_year()
    if top is not None and y > top:
        raise IngestError(
            f"{e.name}{y}年はありません（{e.name}は{top}年（{_ymd(e.end)}）までです）"
        )
    return e.start.year + y - 1


def _check_in_era(e: Era, y: int, d: _dt.date, text: str) -> None:
    if d < e.start or (e.end is not None and d > e.end):
        last = _ymd(e.end) if e.end else "現在"
        raise IngestError(f"日付「{text}」は{e.name}の期間（{_ymd(e.start)}〜{last}）の外です")


def _make_date(y: int, m: int, d: int, text: str) -> _dt.date:
    try:
        return _dt.date(y, m, d)
    except ValueError:
        raise IngestError(f"日付「{text}」は存在しない日付です（{y}年{m}月{d}日）") from None


def parse_date(text: str) -> _dt.date:
    """Parse a 和暦 or 西暦 date written in any of the forms listed in the module docstring.

    Parameters
    ----------
    text : str

    Returns
    -------
    datetime.date

    Raises
    ------
    IngestError
        When the text is not a date, the date does not exist, or it lies outside its era.
    """
    s = _clean(text)
    m = _WAREKI_KANJI.match(s) or _WAREKI_SHORT.match(s)
    if m:
        groups = m.groups()
        era_key, year_tok = groups[0], groups[1]
        month, day = (groups[2], groups[3]) if m.re is _WAREKI_KANJI else (groups[3], groups[4])
        e = _era(era_key)
        y_era = _year_num(year_tok)
        western = era_year_to_western(e.name, y_era)
        d = _make_date(western, int(month), int(day), text)
        _check_in_era(e, y_era, d, text)
        if d < GREGORIAN_START:
            raise IngestError(
                f"日付「{text}」は明治5年以前（旧暦）のため西暦の日付に変換できません"
            )
        return d
    for pattern in (_WESTERN_SEP, _WESTERN_KANJI, _WESTERN_COMPACT):
        m = pattern.match(s)
        if m:
            nums = [g for g in m.groups() if g not in ("/", "-", ".")]
            y, mo, da = (int(x) for x in nums)
            return _make_date(y, mo, da, text)
    raise IngestError(
        f"「{text}」を日付として読めません（例: 令和7年4月1日、R7.4.1、2025/4/1、2025年4月1日）"
    )


def parse_year(text: str) -> int:
    """``"令和4年"`` → 2022, ``"2022年"`` → 2022, ``"平成元年"`` → 1989."""
    s = _clean(text)
    m = re.fullmatch(rf"({_ERA_ALT})\.?{_YEAR}年?", s)
    if m:
        return era_year_to_western(_era(m.group(1)).name, _year_num(m.group(2)))
    m = re.fullmatch(r"(\d{4})年?", s)
    if m:
        return int(m.group(1))
    raise IngestError(f"「{text}」を年として読めません（例: 令和4年、2022年）")


def parse_fiscal_year(text: str, *, default_era: str | None = None) -> int:
    """Return the 西暦 year in which a 年度 (April–March) starts.

    Parameters
    ----------
    text : str
        ``"平成7年度"`` → 1995, ``"令和元年度"`` → 2019, ``"2025年度"`` → 2025, ``"FY2025"`` → 2025.
        When both are written (``"令和7年度（2025年度）"``) they must agree.
    default_era : str, optional
        Era for texts without one, e.g. the header ``"７年度"`` of a table titled 平成.

    Raises
    ------
    IngestError
        For an unknown form, an era year that did not exist (``平成32年度``) or a mismatch.
    """
    s = _clean(text)
    m = _FY_PREFIX.match(s)
    if m:
        return int(m.group(1))
    wareki = None
    m = _WAREKI_YEAR.search(s)
    if m:
        e = _era(m.group(1))
        wareki = era_year_to_western(e.name, _year_num(m.group(2)))
    western = None
    mw = _WESTERN_YEAR.search(s)
    if mw:
        western = int(mw.group(1))
    if wareki is None and western is None and default_era:
        m = re.fullmatch(rf"{_YEAR}年度", s)
        if m:
            era_key = _clean(default_era)
            if era_key not in _BY_KEY:
                raise IngestError(f"元号「{default_era}」を知りません", parameter="default_era")
            wareki = era_year_to_western(_era(era_key).name, _year_num(m.group(1)))
    if wareki is not None and western is not None and wareki != western:
        raise IngestError(f"「{text}」の和暦（{wareki}年度）と西暦（{western}年度）が合いません")
    result = wareki if wareki is not None else western
    if result is None:
        raise IngestError(f"「{text}」を年度として読めません（例: 令和7年度、2025年度）")
    return result


def era_of(date: _dt.date) -> Era:
    """The era in force on ``date``."""
    for e in ERAS:
        if date >= e.start:
            return e
    raise IngestError(f"{date.isoformat()} は明治より前のため和暦に変換できません")


def _year_label(year: int) -> str:
    return "元" if year == 1 else str(year)


def to_wareki(date: _dt.date, *, gannen: bool = True) -> str:
    """``date(2025, 4, 1)`` → ``"令和7年4月1日"``; ``date(2019, 5, 1)`` → ``"令和元年5月1日"``."""
    e = era_of(date)
    y = date.year - e.start.year + 1
    label = _year_label(y) if gannen else str(y)
    return f"{e.name}{label}年{date.month}月{date.day}日"


def fiscal_year_label(year: int, *, western: bool = True) -> str:
    """``2025`` → ``"令和7年度（2025年度）"``.

    The era of a fiscal year is the era in force on 1 May of its first year, which gives the names
    used in practice at each change (1989 → 平成元年度, 2019 → 令和元年度, 1926 → 大正15年度).
    """
    if not isinstance(year, int) or year < 1873:
        raise IngestError(f"年度「{year}」は1873年以降の整数で指定してください", parameter="year")
    e = era_of(_dt.date(year, 5, 1))
    label = f"{e.name}{_year_label(year - e.start.year + 1)}年度"
    return f"{label}（{year}年度）" if western else label


def fiscal_year_span(start: int, end: int) -> str:
    """``(2019, 2025)`` → ``"令和元年度〜令和7年度（2019〜2025年度）"``; one year → its label."""
    if start == end:
        return fiscal_year_label(start)
    return (
        f"{fiscal_year_label(start, western=False)}〜{fiscal_year_label(end, western=False)}"
        f"（{start}〜{end}年度）"
    )
