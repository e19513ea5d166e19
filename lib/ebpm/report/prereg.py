"""事前登録 for a report run: the plan, its lock in the register, and deviations (overrides, later edits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

NONE_LABEL = "事前登録なし"
NO_PLAN_REASON = (
    "事前登録なし: 分析計画を事前に固定していないため、条件の選び方による偏りを否定できない"
    "（探索的な分析として読む）。"
)


def _ja_time(value: Any) -> str:
    if value is None:
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment.hour:02d}:{moment.minute:02d}（日本時間）"


def no_plan() -> dict[str, Any]:
    """The 事前登録 record of a run made without ``--plan``."""
    return {
        "status": "none",
        "label": NONE_LABEL,
        "plan": None,
        "sha256": None,
        "locked_at": None,
        "locked_at_ja": "",
        "deviations": [],
        "reason": NO_PLAN_REASON,
    }


def for_plan(
    plan,
    planned_values: dict[str, Any],
    run_values: dict[str, Any],
    labels: dict[str, str],
    *,
    register=None,
    display=None,
) -> dict[str, Any]:
    """The 事前登録 record of a run with ``--plan``: lock, deviations and the sentence for the grade.

    Parameters
    ----------
    plan : ebpm.plans.plan.Plan
    planned_values, run_values : dict
        The template parameters as the plan fixes them and as the run uses them (both validated).
    labels : dict
        parameter -> Japanese label.
    display : callable, optional
        ``display(name, value)`` -> the value as reports show it (choice labels).
    """
    from ebpm.plans.plan import read_lock_file
    from ebpm.report.register import plan_lock

    # the register is the record; the copy next to the plan serves a fresh clone without a register
    lock = plan_lock(plan.slug, register=register) or read_lock_file(plan.slug)
    from ebpm.plans.plan import Deviation

    # compare validated values (a plan may write "2024-05-01" where the run has a date)
    show = display or (lambda _name, value: value)
    deviations = [
        Deviation(
            "parameter",
            k,
            _plain(planned_values.get(k)),
            _plain(v),
            labels.get(k, ""),
            _plain(show(k, planned_values.get(k))),
            _plain(show(k, v)),
        )
        for k, v in run_values.items()
        if _plain(planned_values.get(k)) != _plain(v)
    ]
    if lock is not None:
        deviations = plan.changes_since(lock["canonical"]) + deviations
    observed = (plan.data.get("data_access") or {}).get("status") == "outcomes_observed"
    record = {
        "plan": plan.slug,
        "plan_title": plan.title,
        "sha256": lock["sha256"] if lock else plan.sha256(),
        "version": int(lock["version"]) if lock else None,
        "locked_at": lock["locked_at"].isoformat(sep=" ") if lock else None,
        "locked_at_ja": _ja_time(lock["locked_at"]) if lock else "",
        "deviations": [d.to_dict() for d in deviations],
        "data_access": (plan.data.get("data_access") or {}).get("status"),
    }
    n = len(deviations)
    if lock is None:
        record |= {"status": "unlocked", "label": "分析計画あり（未登録）"}
        reason = (
            f"分析計画「{plan.slug}」に沿って実行したが、計画はロック（事前登録）されていない。"
            "計画が結果を見た後に書かれていないことを確かめられない。"
        )
    else:
        record |= {"status": "locked", "label": "事前登録あり"}
        reason = f"事前登録あり: 分析計画「{plan.slug}」を{record['locked_at_ja']}にロック（sha256 {record['sha256'][:12]}…）。"
        if n:
            reason += (
                f"【要注意】計画からの逸脱が {n} 件ある（"
                + "；".join(d.text() for d in deviations[:3])
                + "）。"
            )
        else:
            reason += "計画からの逸脱はない。"
    if observed:
        reason += (
            "計画のロック前に結果変数を見ていた（データの利用状況）ため、確認的な分析とは言えない。"
        )
    record["reason"] = reason
    return record


def _plain(value: Any) -> Any:
    from ebpm.plans.plan import _plain as plain

    return plain(value)
