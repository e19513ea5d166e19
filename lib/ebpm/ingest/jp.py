"""Pure text helpers for Japanese public data: headers, full-width characters, numbers, e-Stat symbols."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# e-Stat and 統計表 special symbols that stand for "no number here" in numeric columns.
# Meanings follow the NOTE entries of e-Stat API responses; each table may define them more precisely.
SYMBOL_REASONS: dict[str, str] = {
    "-": "該当数値なし（-）",
    "－": "該当数値なし（-）",
    "‐": "該当数値なし（-）",
    "―": "該当数値なし（-）",
    "—": "該当数値なし（-）",
    "−": "該当数値なし（-）",
    "…": "数値不詳（…）",
    "...": "数値不詳（…）",
    "・・・": "数値不詳（…）",
    "･･･": "数値不詳（…）",
    "x": "秘匿（x）",
    "X": "秘匿（x）",
    "ｘ": "秘匿（x）",
    "Ｘ": "秘匿（x）",
    "***": "調査・集計していない（***）",
    "＊＊＊": "調査・集計していない（***）",
}

# Unit words that appear on their own row under Excel headers (人, 世帯 …), compared after NFKC.
UNIT_WORDS = frozenset(
    "人 千人 万人 世帯 千世帯 件 円 千円 万円 百万円 億円 % ‰ 戸 歳 年 月 日 時間 分 秒 回 台 所 箇所 か所 ヶ所 "
    "施設 校 床 km2 k㎡ ha a m2 m t kg 人/km2 人/k㎡ 倍 点 冊 本 棟 人/日 件/日 ℃ °C mm".split()
)

# A number as written in Japanese tables: thousands separators, △/▲ for minus, optional decimals.
NUMBER_PATTERN = r"^[+\-△▲]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][+\-]?\d+)?$|^[+\-]?\.\d+$"
INTEGER_PATTERN = r"^[+\-△▲]?(?:\d{1,3}(?:,\d{3})+|\d+)$"
LEADING_ZERO_PATTERN = r"^0\d"
FULLWIDTH_ALNUM_PATTERN = "[０-９Ａ-Ｚａ-ｚ]"
FULLWIDTH_NUMERIC_PATTERN = "[０-９，．－＋]"
# full date forms recognised when deciding whether a column holds dates (checked by ebpm.ingest.wareki)
DATE_PATTERN = (
    r"^\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}$|^\d{4}年\d{1,2}月\d{1,2}日$"
    r"|^(?:令和|平成|昭和|大正|明治|[RHSTMrhstm])\.?(?:\d{1,2}|元)(?:年\d{1,2}月\d{1,2}日|[/.\-]\d{1,2}[/.\-]\d{1,2})$"
)
# header words that mark a code or identifier column: kept as text (leading zeros matter)
CODE_NAME_PATTERN = re.compile(
    r"(コード|番号|郵便|電話|ＦＡＸ|FAX|TEL|ID$|^ID|Id$|CD$|code|^No\.?$|^No[._ ]|^pid$|^cid$)",
    re.IGNORECASE,
)

_NUMBER_RE = re.compile(NUMBER_PATTERN)
_FW_TABLE = str.maketrans(
    "０１２３４５６７８９"
    "ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ"
    "ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ",
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
)
_KATAKANA = "\u30a1-\u30fa\u30fc"
_DASHES = "\u2015\u2014\u2012\u2013\u2010\u2011\u2212\uff0d-"
_CHOON_RE = re.compile(
    rf"(?<=[{_KATAKANA}])[{_DASHES}](?=[{_KATAKANA}\u3041-\u3096\u4e00-\u9fff]|$)"
)
_SPACE_RE = re.compile(r"\s+")
_UNIT_RE = re.compile(r"【([^】]*)】|\(単位[:：]\s*([^)]*)\)")


def to_halfwidth(text: str) -> str:
    """Full-width digits and latin letters → half-width; kana and punctuation stay as written."""
    return text.translate(_FW_TABLE)


def _join_space(match: re.Match[str]) -> str:
    s = match.string
    before = s[match.start() - 1] if match.start() > 0 else ""
    after = s[match.end()] if match.end() < len(s) else ""
    if before and after and not before.isascii() and not after.isascii():
        return ""  # 「総 数」「面  積」: spacing used for alignment between Japanese characters
    return " "


def normalize_header(text: object) -> str:
    """Normalise a column header.

    NFKC (full-width → half-width, ``№`` → ``No``, ``（Ａ）`` → ``(A)``), a dash after katakana read
    as the long-vowel mark (``コ―ド`` → ``コード``), newlines and runs of spaces removed between
    Japanese characters and collapsed to one space between latin words, ends stripped.
    """
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", str(text))
    s = _CHOON_RE.sub("ー", s)
    s = s.strip()
    return _SPACE_RE.sub(_join_space, s)


def split_unit(header: str) -> tuple[str, str | None]:
    """``"人口【千人】"`` → ``("人口", "千人")``; ``"面積(単位:km2)"`` → ``("面積", "km2")``."""
    m = _UNIT_RE.search(header)
    if not m:
        return header, None
    unit = (m.group(1) or m.group(2) or "").strip()
    name = (header[: m.start()] + header[m.end() :]).strip()
    return (name or header), (unit or None)


def is_unit_word(text: str | None) -> bool:
    """True for a cell that is only a unit (``人``, ``世帯``, ``(人)``)."""
    if not text:
        return False
    s = normalize_header(text).strip("()（）[]")
    return s in UNIT_WORDS


def is_code_name(header: str) -> bool:
    """True when a header names a code or identifier (its values stay text)."""
    return bool(CODE_NAME_PATTERN.search(header))


def parse_number(text: str | None) -> int | float | None:
    """``"27,506"`` → 27506, ``"△1.5"`` → -1.5, ``"１２３"`` → 123; symbols and blanks → ``None``.

    Raises
    ------
    ValueError
        When the text is neither a number, a blank nor a special symbol.
    """
    if text is None:
        return None
    s = unicodedata.normalize("NFKC", str(text)).strip()
    if s == "" or s in SYMBOL_REASONS or str(text).strip() in SYMBOL_REASONS:
        return None
    if not _NUMBER_RE.match(s):
        raise ValueError(f"「{text}」は数値ではありません")
    s = s.replace(",", "").replace("△", "-").replace("▲", "-")
    if re.fullmatch(r"[+\-]?\d+", s):
        return int(s)
    return float(s)


def parse_number_or_none(text: str | None) -> int | float | None:
    """Like :func:`parse_number` but ``None`` for anything that is not a number (never raises)."""
    try:
        return parse_number(text)
    except ValueError:
        return None


_PAREN_RE = re.compile(r"[(（]([^()（）]{1,8})[)）]")


def unit_in_title(text: str) -> str | None:
    """The unit a title states for the whole table: ``"駅別乗車人員（１日平均） (人）"`` → ``"人"``."""
    if not text:
        return None
    _, unit = split_unit(text)
    if unit:
        return unit
    for inner in _PAREN_RE.findall(text):
        word = unicodedata.normalize("NFKC", inner).strip()
        word = word.removeprefix("単位").lstrip(":：").strip()
        if word in UNIT_WORDS:
            return word
    return None


_PERIOD_RE = re.compile(
    r"((?:令和|平成|昭和|[RrHhSs])\s*(?:[0-9０-９]{1,2}|元)\s*年\s*[0-9０-９]{1,2}\s*月\s*[0-9０-９]{1,2}\s*日"
    r"|[0-9０-９]{4}\s*年\s*[0-9０-９]{1,2}\s*月\s*[0-9０-９]{1,2}\s*日)"
    r"\s*(現在|時点|末日?)?"
)


def period_in_title(text: str) -> tuple[str, Any] | None:
    """The 時点 a title states: ``"令和2年10月1日現在 人口"`` → ``("令和2年10月1日現在", date(2020, 10, 1))``.

    Only a full date (year, month, day; 和暦 or 西暦, full-width digits allowed) counts; ``None``
    when the title has none or it is not a real date.
    """
    from ebpm.ingest.wareki import parse_date

    if not text:
        return None
    for m in _PERIOD_RE.finditer(text):
        try:
            day = parse_date(re.sub(r"\s+", "", m.group(1)))
        except Exception:  # noqa: BLE001 - not a real date: look for another one
            continue
        return re.sub(r"\s+", "", m.group(0)), day
    return None
