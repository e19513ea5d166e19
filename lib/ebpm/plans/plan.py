"""Analysis plans (分析計画): YAML schema, a canonical hash for locking, changes since the lock, deviations."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ebpm.config import paths
from ebpm.ingest.yamlfile import Checker, SchemaError, YamlDoc, parse_yaml, read_yaml

SCHEMA_VERSION = 1
HASH_ALGORITHM = "sha256 (JSON: キー順・NFC・lock を除く)"
DESIGNS: dict[str, str] = {
    "rct": "無作為化比較試験（RCT）",
    "did": "差の差分析（DiD）",
    "event_study": "イベントスタディ",
    "its": "分割時系列分析（ITS）",
    "rdd": "回帰不連続デザイン（RDD）",
    "synth": "合成コントロール法",
    "regression": "回帰分析（観察データ）",
    "descriptive": "記述統計・モニタリング",
}
DATA_ACCESS: dict[str, str] = {
    "not_created": "データはまだ作られていない",
    "exists_unobserved": "データはあるが、まだ見ていない",
    "accessed_outcomes_unobserved": "データを扱ったが、結果変数はまだ見ていない",
    "outcomes_observed": "結果変数をすでに見た（確認的ではなく探索的な分析になる）",
}
_KEYS = (
    "schema_version",
    "id",
    "title",
    "question",
    "estimand",
    "design",
    "outcome",
    "comparison",
    "template",
    "parameters",
    "power",
    "decision_rule",
    "data_access",
    "prior_knowledge",
    "logic_model",
    "hypothesis",
    "robustness",
    "notes",
    "owner",
)
_POWER_KEYS = (
    "design",
    "n",
    "sd",
    "alpha",
    "power",
    "ratio",
    "periods_pre",
    "periods_post",
    "rho",
    "icc",
    "cluster_size",
    "mde",
    "unit",
    "assumptions",
    "computed_with",
)
# template -> what `ebpm plan new` fills in (a starting point the planner edits before locking)
TEMPLATE_STARTERS: dict[str, dict[str, Any]] = {
    "did_study": {
        "question": "窓口にキャッシュレス決済を導入すると、平均待ち時間は短くなるか。",
        "estimand": "導入した窓口における、導入後の平均待ち時間の変化（処置群の平均処置効果、ATT）",
        "design": "did",
        "outcome": {"name": "平均待ち時間（分）", "logic_model": "cashless_counters", "node": "S1"},
        "comparison": "まだ導入していない窓口と、導入しない出張所（段階的導入の差の差分析）",
        "hypothesis": "導入により平均待ち時間は短くなる（片側の仮説だが、検定は両側）。",
        "power": {
            "design": "did",
            "n": 12,
            "ratio": 0.25,
            "sd": 3.0,
            "periods_pre": 12,
            "periods_post": 12,
            "rho": 0.5,
            "alpha": 0.05,
            "power": 0.8,
            "unit": "分",
            "assumptions": "導入窓口12・比較の出張所3、窓口間の待ち時間の標準偏差3分・月の間の相関0.5を仮定（結果変数は見ていない）。",
        },
        "decision_rule": "95%信頼区間の上限が −1分未満なら全窓口に拡大する。区間が0を含むなら拡大を保留し、待ち時間の別の要因を調べる。",
    },
    "dx_kpi_dashboard": {
        "question": "DX推進計画の4つのKPIは、計画期間の終わりに目標を達成しているか。",
        "estimand": "各KPIの年度末時点の実績値と目標値の差（因果効果ではない）",
        "design": "descriptive",
        "outcome": {"name": "DX推進計画のKPI（4指標）", "logic_model": "dx_plan", "node": "O1"},
        "comparison": "なし（目標値との比較）",
        "decision_rule": "目標に届かない見通しのKPIは、次年度の予算要求で取組の追加を検討する。",
    },
}


class PlanError(SchemaError):
    """An analysis plan is missing, does not follow the schema, or was changed after locking."""


@dataclass
class Deviation:
    """One departure from the locked plan: a parameter run with another value, or an edited field."""

    kind: str  # "parameter" | "edited"
    field: str
    planned: Any
    actual: Any
    label: str = ""
    planned_shown: Any = None  # the values as reports show them (choice labels), when known
    actual_shown: Any = None

    def text(self) -> str:
        """One Japanese line for reports."""
        name = self.label or self.field
        before = _show(self.planned if self.planned_shown is None else self.planned_shown)
        after = _show(self.actual if self.actual_shown is None else self.actual_shown)
        if self.kind == "edited":
            return f"ロック後に計画の「{name}」が変更された（ロック時: {before} → 現在: {after}）"
        return f"条件「{name}」を計画の「{before}」ではなく「{after}」で実行"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (result.json) with the Japanese line."""
        return {
            "kind": self.kind,
            "field": self.field,
            "label": self.label,
            "planned": self.planned,
            "actual": self.actual,
            "text": self.text(),
        }


def _show(value: Any) -> str:
    if value is None:
        return "（なし）"
    if isinstance(value, list):
        return "、".join(map(str, value)) or "（空）"
    if isinstance(value, (dict,)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@dataclass
class Plan:
    """An analysis plan read from ``studies/<slug>/plan.yml``."""

    slug: str
    data: dict[str, Any]
    path: Path | None = None
    lines: dict[tuple, int] = field(default_factory=dict)

    @property
    def template(self) -> str:
        return str(self.data["template"])

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self.data.get("parameters") or {})

    @property
    def title(self) -> str:
        return str(self.data.get("title") or self.slug)

    def canonical(self) -> str:
        """Canonical JSON of the plan (sorted keys, NFC Unicode, LF, no ``lock`` block, no comments)."""
        return canonical_json(self.data)

    def sha256(self) -> str:
        """The plan's content hash (what ``ebpm plan lock`` records)."""
        return hashlib.sha256(self.canonical().encode("utf-8")).hexdigest()

    def changes_since(self, locked_canonical: str) -> list[Deviation]:
        """Fields that differ from the locked content (empty when the plan is unchanged)."""
        before = json.loads(locked_canonical)
        after = json.loads(self.canonical())
        return [Deviation("edited", k, b, a) for k, b, a in _diff(before, after)]

    def deviations(
        self, values: dict[str, Any], labels: dict[str, str] | None = None
    ) -> list[Deviation]:
        """Parameters whose run value differs from the plan's (``values`` as the run used them)."""
        labels = labels or {}
        out = []
        planned = self.parameters
        for name, value in values.items():
            if name not in planned:
                out.append(Deviation("parameter", name, None, _plain(value), labels.get(name, "")))
            elif _plain(planned[name]) != _plain(value):
                out.append(
                    Deviation(
                        "parameter",
                        name,
                        _plain(planned[name]),
                        _plain(value),
                        labels.get(name, ""),
                    )
                )
        return out


def _plain(value: Any) -> Any:
    """JSON-comparable form (dates as ISO text, tuples as lists)."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value.replace("\r\n", "\n"))
    if isinstance(value, dict):
        return {str(_nfc(k)): _nfc(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nfc(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def canonical_json(data: dict[str, Any]) -> str:
    """Canonical serialisation used for the lock hash (re-saving in another editor keeps the hash)."""
    body = {k: v for k, v in data.items() if k != "lock"}
    return json.dumps(_nfc(body), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _diff(before: Any, after: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for key in sorted(set(before) | set(after)):
            out += _diff(before.get(key), after.get(key), f"{prefix}.{key}" if prefix else key)
        return out
    return [] if before == after else [(prefix or "（全体）", before, after)]


def validate_plan(doc: YamlDoc, slug: str) -> Plan:
    """Check a parsed plan against the schema (errors name the line and the field)."""
    chk = Checker(doc)
    if not isinstance(doc.data, dict):
        raise PlanError(
            "分析計画のファイルは 項目: 値 の形で書いてください。", file=doc.file, line=1
        )
    chk.unknown_keys((), (*_KEYS, "lock"))
    version = chk.require(("schema_version",), int, label="様式の版")
    if version is not None and version != SCHEMA_VERSION:
        chk.problem(
            ("schema_version",),
            f"様式の版 {version} には対応していません（{SCHEMA_VERSION} のみ）。",
        )
    for key, label in (
        ("id", "ID"),
        ("title", "題名"),
        ("question", "問い"),
        ("estimand", "推定する量"),
        ("comparison", "比較群"),
        ("template", "分析テンプレート"),
        ("decision_rule", "判断の規則"),
        ("prior_knowledge", "事前に知っていること"),
    ):
        chk.require((key,), str, label=label)
    chk.enum(("design",), DESIGNS, label="分析の設計")
    if chk.require(("outcome",), dict, label="結果変数") is not None:
        chk.require(("outcome", "name"), str, label="結果変数の名前")
        chk.optional(("outcome", "logic_model"), str)
        chk.optional(("outcome", "node"), (str, int))
    chk.require(("parameters",), dict, label="テンプレートの条件")
    if chk.optional(("power",), dict) is not None:
        chk.unknown_keys(("power",), _POWER_KEYS)
        for key in ("n", "sd", "alpha", "power", "ratio", "rho", "icc", "cluster_size", "mde"):
            chk.optional(("power", key), (int, float))
    if chk.require(("data_access",), dict, label="データの利用状況") is not None:
        chk.enum(("data_access", "status"), DATA_ACCESS, label="データの利用状況")
    chk.raise_if_any("分析計画")
    return Plan(slug=slug, data=doc.data, lines=doc.lines)


def plan_path(slug: str) -> Path:
    """``studies/<slug>/plan.yml``."""
    return paths().studies / slug / "plan.yml"


def _label(path: Path) -> str:
    try:
        return path.resolve().relative_to(paths().root).as_posix()
    except ValueError:
        return path.name


def load_plan(slug: str) -> Plan:
    """Read and validate ``studies/<slug>/plan.yml`` (or a path to a plan file)."""
    p = Path(slug) if slug.endswith((".yml", ".yaml")) else plan_path(slug)
    if not p.exists():
        known = (
            "、".join(sorted(d.parent.name for d in paths().studies.glob("*/plan.yml")))
            or "（なし）"
        )
        raise PlanError(f"分析計画「{slug}」はありません（{_label(p)}）。ある計画: {known}")
    doc = read_yaml(p, label=_label(p))
    plan = validate_plan(doc, p.parent.name if p.name == "plan.yml" else p.stem)
    plan.path = p
    return plan


def parse_plan(text: str, *, slug: str = "plan", file: str = "plan.yml") -> Plan:
    """Validate plan YAML given as text."""
    return validate_plan(parse_yaml(text, file=file), slug)


def minimum_detectable_effect(spec: dict[str, Any]) -> float | None:
    """MDE from ``ebpm.power`` for a plan's ``power`` block (None when n is not given)."""
    from ebpm.methods.power import power

    if not spec.get("n"):
        return None
    kwargs = {
        k: spec[k]
        for k in (
            "sd",
            "alpha",
            "ratio",
            "periods_pre",
            "periods_post",
            "rho",
            "icc",
            "cluster_size",
        )
        if spec.get(k) is not None
    }
    design = spec.get("design", "two_sample")
    if design not in ("two_sample", "cluster", "did"):
        design = "two_sample"
    result = power(
        n=float(spec["n"]),
        power=float(spec.get("power", 0.8)),
        design=design,
        effect_unit=str(spec.get("unit", "")),
        **kwargs,
    )
    return round(float(result.estimate), 4)


def new_plan_data(
    slug: str, template: str, parameters: dict[str, Any], *, title: str = ""
) -> dict[str, Any]:
    """The content ``ebpm plan new`` writes: every field, the template's parameters, the MDE."""
    from ebpm import __version__

    starter = TEMPLATE_STARTERS.get(template, {})
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "id": slug,
        "title": title or f"{slug} の分析計画",
        "question": starter.get("question", "（問いを1文で書く）"),
        "estimand": starter.get("estimand", "（何を推定するか: 対象・結果変数・比較）"),
        "design": starter.get("design", "regression"),
        "outcome": starter.get("outcome", {"name": "（結果変数）", "logic_model": "", "node": ""}),
        "comparison": starter.get("comparison", "（比較群）"),
        "hypothesis": starter.get("hypothesis", "（主要な仮説を1つ、向きとともに）"),
        "template": template,
        "parameters": parameters,
    }
    spec = dict(starter.get("power") or {})
    if spec:
        spec["mde"] = minimum_detectable_effect(spec)
        spec["computed_with"] = f"ebpm.power（ebpm {__version__}）"
        data["power"] = spec
    elif data["design"] == "descriptive":
        data["power"] = {
            "mde": None,
            "assumptions": "記述統計・モニタリングのため、検出力は計算しない。",
        }
    else:
        data["power"] = {
            "design": "two_sample",
            "n": None,
            "sd": None,
            "alpha": 0.05,
            "power": 0.8,
            "mde": None,
            "assumptions": "n（1群あたりの数）と sd（結果変数の標準偏差の想定）を書き、"
            "mde に ebpm.power(n=…, power=0.8, sd=…) の値を書く（ロック時に確かめます）。",
        }
    data["decision_rule"] = starter.get("decision_rule", "（どの結果ならどう判断するか）")
    data["data_access"] = {"status": "exists_unobserved"}
    data["prior_knowledge"] = "（これまでに見た表・レポート。結果変数を見たかどうか）"
    return data


def write_new_plan(
    slug: str,
    template: str,
    parameters: dict[str, Any],
    *,
    title: str = "",
    overwrite: bool = False,
) -> Path:
    """Create ``studies/<slug>/`` (plan.yml, notes.md, runs/) and return the plan path."""
    import yaml

    target = plan_path(slug)
    if target.exists() and not overwrite:
        raise PlanError(f"分析計画はすでにあります: {_label(target)}（上書きしません）")
    target.parent.mkdir(parents=True, exist_ok=True)
    (target.parent / "runs").mkdir(exist_ok=True)
    notes = target.parent / "notes.md"
    if not notes.exists():
        notes.write_text(f"# {slug} の検討メモ\n\n", encoding="utf-8")
    data = new_plan_data(slug, template, parameters, title=title)
    header = (
        "# 分析計画（事前登録）。書き終えたら `ebpm plan lock " + slug + "` でロックします。\n"
        "# data_access.status: " + " / ".join(DATA_ACCESS) + "\n"
        "# design: " + " / ".join(DESIGNS) + "\n"
    )
    text = yaml.safe_dump(_plain(data), allow_unicode=True, sort_keys=False, width=100)
    target.write_text(header + text, encoding="utf-8")
    return target


LOCK_FILE = "plan.lock.json"


def write_lock_file(slug: str, lock: dict[str, Any]) -> Path:
    """Keep a copy of the register's lock next to the plan (``plan.lock.json``), so it travels in git."""
    target = plan_path(slug).parent / LOCK_FILE
    data = {k: (v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v) for k, v in lock.items()}
    target.write_text(
        json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return target


def read_lock_file(slug: str) -> dict[str, Any] | None:
    """The lock copied next to the plan (None when absent or unreadable); ``locked_at`` as a datetime."""
    source = plan_path(slug).parent / LOCK_FILE
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
        data["locked_at"] = dt.datetime.fromisoformat(str(data["locked_at"]))
        if not all(data.get(k) for k in ("sha256", "canonical", "version")):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return data


def lock_files() -> dict[str, dict[str, Any]]:
    """slug -> the lock copied next to each plan."""
    out = {}
    for f in sorted(paths().studies.glob(f"*/{LOCK_FILE}")):
        lock = read_lock_file(f.parent.name)
        if lock:
            out[f.parent.name] = lock
    return out


def lock_problems(plan: Plan) -> list[str]:
    """Why a plan cannot be locked yet (Japanese), or an empty list.

    A causal design needs its minimum detectable effect before the data are seen, and a written MDE
    must be what ``ebpm.power`` gives for the stated assumptions.
    """
    problems = []
    design = plan.data.get("design")
    spec = plan.data.get("power") or {}
    if design != "descriptive":
        if spec.get("mde") is None:
            problems.append(
                "最小検出可能効果（power.mde）がありません。ロックの前に ebpm.power で求めて書いてください。"
            )
        elif spec.get("n"):
            again = minimum_detectable_effect(spec)
            if again is not None and abs(again - float(spec["mde"])) > 1e-3 * max(1.0, abs(again)):
                problems.append(
                    f"power.mde（{spec['mde']}）が、書かれた仮定から ebpm.power で求めた値（{again}）と一致しません。"
                )
    for key in ("question", "decision_rule", "prior_knowledge", "estimand", "comparison"):
        value = str(plan.data.get(key) or "")
        if value.startswith("（") and value.endswith("）"):
            problems.append(f"{key} が下書きのままです（{value}）。")
    return problems
