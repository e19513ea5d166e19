"""Exercise answer keys (held instructor-side) and the participants' immediate self-check."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ebpm.config import paths
from ebpm.errors import ParameterError

KEY_FILE = Path("instructor") / "exercises.yml"


@dataclass(frozen=True)
class Exercise:
    """One graded step of a lesson.

    ``reference`` is ``{"truth": table, "key": dotted.key}`` (the synthetic city's ground truth),
    ``{"simulation": NAME}`` (a constant of :mod:`ebpm.training.simulations`), ``{"sql": query}``
    (computed from the curated database) or ``{"value": number, "source": "…"}`` (a published value);
    ``tolerance`` is absolute.
    """

    key: str
    lesson: str
    step: str
    variable: str
    points: int
    reference: dict[str, Any]
    tolerance: float
    selfcheck: bool = True

    def expected(self) -> float:
        """The reference value (never shown to participants)."""
        ref = self.reference
        if "value" in ref:
            return float(ref["value"])
        if "sql" in ref:
            from ebpm.data.access import sql

            return float(sql(str(ref["sql"])).iloc[0, 0])
        if "simulation" in ref:
            from ebpm.training import simulations

            return float(getattr(simulations, str(ref["simulation"])))
        if "truth" in ref:
            from ebpm.synth_city.truth import ground_truth

            node: Any = ground_truth(str(ref["truth"]))
            for part in str(ref["key"]).split("."):
                node = node[part] if part in node else node[int(part)]
            return float(node)
        raise ParameterError(f"課題「{self.key}」の reference が読めません", parameter="reference")


def key_file() -> Path:
    """``training/instructor/exercises.yml``: the answer keys (not part of any student copy)."""
    return paths().training / KEY_FILE


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> dict[str, Exercise]:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    out = {}
    for key, item in raw.items():
        out[key] = Exercise(
            key=key,
            lesson=str(item["lesson"]),
            step=str(item["step"]),
            variable=str(item["variable"]),
            points=int(item.get("points", 1)),
            reference=dict(item["reference"]),
            tolerance=float(item["tolerance"]),
            selfcheck=bool(item.get("selfcheck", True)),
        )
    return out


def exercises(lesson: str | None = None) -> dict[str, Exercise]:
    """All exercises (or those of one lesson), keyed by exercise key."""
    file = key_file()
    if not file.is_file():
        raise ParameterError(
            "採点の鍵（training/instructor/exercises.yml）がありません。講師の環境で実行してください。",
            parameter="exercises",
        )
    items = _load(str(file), file.stat().st_mtime)
    return {k: v for k, v in items.items() if lesson is None or v.lesson == lesson}


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def judge(exercise: Exercise, value: Any) -> tuple[bool, str]:
    """Compare ``value`` with the reference: (correct?, Japanese feedback without the value)."""
    number = _number(value)
    if value is None:
        return False, "まだ答えが入っていません（変数が None です）。"
    if number is None:
        return False, f"数値ではありません（{type(value).__name__} 型）。数値1つを入れてください。"
    expected = exercise.expected()
    if abs(number - expected) <= exercise.tolerance:
        return True, "正しい範囲です（許容差の内側）。"
    if expected != 0 and number != 0 and (number > 0) != (expected > 0):
        return False, "向き（符号）が逆です。どちらからどちらを引いたかを確かめてください。"
    if expected != 0 and (abs(number) > 5 * abs(expected) or abs(number) < abs(expected) / 5):
        return False, "桁が違います。単位（分・件・割合か%か）と集計の単位を確かめてください。"
    return (
        False,
        "向きは合っていますが、許容差の外です。手順（対象の期間・群・式）を見直してください。",
    )


def check(key: str, value: Any) -> bool:
    """Immediate self-check for participants: prints right / wrong direction / out of tolerance.

    The reference value and the tolerance are never printed. Returns whether the answer is in range.

    Examples
    --------
    >>> ebpm.training.check("p5.ck_did", ck_did)  # doctest: +SKIP
    ✅ 課題 p5.ck_did: 正しい範囲です（許容差の内側）。
    """
    items = exercises()
    if key not in items:
        raise ParameterError(
            f"課題「{key}」はありません。使えるのは {'、'.join(sorted(items))} です。",
            parameter="key",
        )
    exercise = items[key]
    if not exercise.selfcheck:
        print(f"課題 {key}: この課題は自己チェックがありません（採点時に確かめます）。")
        return False
    ok, message = judge(exercise, value)
    print(f"{'✅' if ok else '❌'} 課題 {key}: {message}")
    return ok
