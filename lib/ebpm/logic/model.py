"""Logic models (ロジックモデル) as data: schema, loading, actuals from the curated database, status."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ebpm.config import paths
from ebpm.errors import EbpmError
from ebpm.ingest.yamlfile import Checker, SchemaError, YamlDoc, parse_yaml, read_yaml

if TYPE_CHECKING:
    from ebpm.logic.render import LogicDiagram

SCHEMA_VERSION = 1

# stage key -> Japanese label, left to right in the diagram
STAGES: dict[str, str] = {
    "input": "インプット",
    "activity": "活動",
    "output": "アウトプット",
    "short": "短期アウトカム",
    "medium": "中期アウトカム",
    "long": "長期アウトカム",
    "impact": "インパクト",
}
STAGE_ALIASES: dict[str, str] = {**{k: k for k in STAGES}, **{v: k for k, v in STAGES.items()}}
STAGE_ALIASES.update({"アクティビティ": "activity", "予算": "input"})
DIRECTIONS: dict[str, str] = {"上向き": "up", "下向き": "down", "up": "up", "down": "down"}
DIRECTION_JA = {"up": "上向き", "down": "下向き"}

# indicator status: key -> (Japanese label, colour). Colours pass WCAG AA on white text.
STATUS: dict[str, tuple[str, str]] = {
    "achieved": ("達成", "#1b6e3a"),
    "on_track": ("順調", "#1f5a96"),
    "behind": ("遅れ", "#9a4a00"),
    "no_target": ("目標未設定", "#5b4e8a"),
    "no_data": ("データなし", "#666666"),
}
AGGS = ("mean", "sum", "count", "share_true")
_TOP_KEYS = (
    "schema_version",
    "id",
    "title",
    "project",
    "synthetic",
    "nodes",
    "edges",
    "notes",
    "single_stage_reason",
)
_NODE_KEYS = ("id", "stage", "statement", "indicator", "assumptions", "rs_number")
_IND_KEYS = (
    "name",
    "unit",
    "direction",
    "source",
    "definition",
    "data",
    "actuals",
    "targets",
    "baseline",
)
_DATA_KEYS = (
    "kpi",
    "query",
    "table",
    "column",
    "agg",
    "fy_column",
    "date_column",
    "cumulative",
    "from_fy",
    "to_fy",
)
_EDGE_KEYS = ("from", "to", "note", "evidence")
# output-looking words in an outcome indicator (the classic output/outcome confusion)
_OUTPUT_WORDS = ("実施回数", "開催回数", "配布数", "実施件数", "開催数", "配布件数")


class LogicModelError(SchemaError):
    """A logic model file is missing or does not follow the schema."""


@dataclass
class Indicator:
    """One indicator of a node: definition, binding to the curated data, targets and actuals."""

    name: str
    unit: str = ""
    direction: str = "up"
    source: str = ""
    definition: str = ""
    data: dict[str, Any] | None = None
    actuals: dict[int, Any] = field(default_factory=dict)
    targets: dict[int, Any] = field(default_factory=dict)
    baseline: dict[str, Any] | None = None


@dataclass
class Node:
    """A box of the logic model (an input, activity, output, outcome or impact)."""

    id: str
    stage: str
    statement: str
    indicator: Indicator | None = None
    assumptions: str = ""
    rs_number: str = ""

    @property
    def stage_ja(self) -> str:
        return STAGES[self.stage]


@dataclass
class Edge:
    """A link 派生元 → 派生先 with the rationale (後続アウトカムへのつながり) and evidence."""

    source: str
    target: str
    note: str = ""
    evidence: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class IndicatorStatus:
    """Where one indicator stands against its target, from the actuals."""

    status: str
    latest_fy: int | None = None
    latest: float | None = None
    target_fy: int | None = None
    target: float | None = None
    expected: float | None = None

    @property
    def label(self) -> str:
        return STATUS[self.status][0]

    @property
    def colour(self) -> str:
        return STATUS[self.status][1]


@dataclass
class LogicModel:
    """A policy's logic model: nodes by stage, edges, indicators bound to the curated data.

    Build one with :func:`logic_model` (by slug) or :func:`load_logic_model` (by path).
    """

    id: str
    title: str
    nodes: list[Node]
    edges: list[Edge]
    project: dict[str, Any] = field(default_factory=dict)
    synthetic: bool = False
    notes: str = ""
    single_stage_reason: str = ""
    path: Path | None = None
    data_errors: dict[str, str] = field(default_factory=dict)
    _actuals: dict[str, dict[int, float]] | None = field(default=None, repr=False)

    def node(self, node_id: str) -> Node:
        """The node with ``node_id`` (Japanese error when there is none)."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise LogicModelError(f"ノード「{node_id}」はこのロジックモデル（{self.id}）にありません。")

    def actuals(self, *, refresh: bool = False) -> dict[str, dict[int, float]]:
        """Actual values by fiscal year per node id: curated data where bound, else the file's values."""
        if self._actuals is None or refresh:
            out: dict[str, dict[int, float]] = {}
            for n in self.nodes:
                ind = n.indicator
                if ind is None:
                    continue
                values = {int(k): v for k, v in ind.actuals.items() if _number(v) is not None}
                values = {k: float(v) for k, v in values.items()}
                if ind.data:
                    try:
                        values.update(bound_actuals(ind.data))
                    except (
                        EbpmError
                    ) as err:  # a table missing from this database: no data, said why
                        self.data_errors[n.id] = str(err)
                if values:
                    out[n.id] = dict(sorted(values.items()))
            self._actuals = out
        return self._actuals

    def status(self) -> dict[str, IndicatorStatus]:
        """Status of every node that has an indicator (achieved / on track / behind / no data)."""
        acts = self.actuals()
        return {
            n.id: indicator_status(n.indicator, acts.get(n.id, {}))
            for n in self.nodes
            if n.indicator is not None
        }

    def graph(self) -> dict[str, Any]:
        """The model's structure as plain data (nodes, indicators, targets, edges) for comparison."""
        nodes = []
        for n in self.nodes:
            ind = n.indicator
            nodes.append(
                {
                    "id": n.id,
                    "stage": n.stage,
                    "statement": n.statement,
                    "indicator": None
                    if ind is None
                    else {
                        "name": ind.name,
                        "unit": ind.unit,
                        "direction": ind.direction,
                        "source": ind.source,
                        "targets": {
                            int(k): _num_or_text(v) for k, v in sorted(ind.targets.items())
                        },
                    },
                }
            )
        edges = sorted((e.source, e.target, e.note) for e in self.edges)
        return {"nodes": sorted(nodes, key=lambda d: d["id"]), "edges": edges}

    def chart(self, *, width: int | None = None) -> LogicDiagram:
        """The diagram as an inline SVG object (shows itself in notebooks and reports)."""
        from ebpm.logic.render import LogicDiagram

        return LogicDiagram(self, width=width)

    def to_dict(self) -> dict[str, Any]:
        """The model as YAML-ready data (the file's shape)."""
        nodes = []
        for n in self.nodes:
            item: dict[str, Any] = {"id": n.id, "stage": n.stage, "statement": n.statement}
            if n.rs_number:
                item["rs_number"] = n.rs_number
            if n.assumptions:
                item["assumptions"] = n.assumptions
            if n.indicator is not None:
                ind = n.indicator
                d: dict[str, Any] = {
                    "name": ind.name,
                    "unit": ind.unit,
                    "direction": DIRECTION_JA[ind.direction],
                }
                for key in ("source", "definition"):
                    if getattr(ind, key):
                        d[key] = getattr(ind, key)
                if ind.data:
                    d["data"] = dict(ind.data)
                if ind.actuals:
                    d["actuals"] = {int(k): v for k, v in ind.actuals.items()}
                if ind.targets:
                    d["targets"] = {int(k): v for k, v in ind.targets.items()}
                if ind.baseline:
                    d["baseline"] = dict(ind.baseline)
                item["indicator"] = d
            nodes.append(item)
        edges = []
        for e in self.edges:
            item = {"from": e.source, "to": e.target}
            if e.note:
                item["note"] = e.note
            if e.evidence:
                item["evidence"] = e.evidence
            edges.append(item)
        out: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "id": self.id, "title": self.title}
        if self.project:
            out["project"] = dict(self.project)
        out["synthetic"] = self.synthetic
        if self.single_stage_reason:
            out["single_stage_reason"] = self.single_stage_reason
        out["nodes"] = nodes
        out["edges"] = edges
        return out

    def warnings(self) -> list[str]:
        """Quality warnings that do not stop loading (output/outcome confusion, stage jumps)."""
        self.actuals()
        out = [f"ノード {k} の実績を読めません: {v}" for k, v in self.data_errors.items()]
        order = list(STAGES)
        for n in self.nodes:
            if n.stage in ("short", "medium", "long") and n.indicator is None:
                out.append(f"ノード {n.id}（{n.stage_ja}）に指標がありません。")
            if n.stage in ("short", "medium", "long") and n.indicator is not None:
                if any(w in n.indicator.name for w in _OUTPUT_WORDS):
                    out.append(
                        f"ノード {n.id} の指標「{n.indicator.name}」は活動の量（アウトプット）に見えます。"
                        "アウトカムには受け手の変化を表す指標を選んでください。"
                    )
        start = (self.project or {}).get("start_year")
        for (
            n
        ) in self.nodes:  # the default-to-short pitfall: a term that does not fit the target year
            if isinstance(start, int) and n.indicator is not None and n.indicator.targets:
                years = max(int(y) for y in n.indicator.targets) - start
                if n.stage == "short" and years > 1.5:
                    out.append(
                        f"ノード {n.id} は短期アウトカムですが、目標年度が開始から{years}年後です"
                        "（中期・長期ではありませんか）。"
                    )
                elif n.stage == "medium" and years > 5.5:
                    out.append(
                        f"ノード {n.id} は中期アウトカムですが、目標年度が開始から{years}年後です"
                        "（長期ではありませんか）。"
                    )
        by_id = {n.id: n for n in self.nodes}
        for e in self.edges:
            a, b = by_id.get(e.source), by_id.get(e.target)
            if a and b and order.index(b.stage) <= order.index(a.stage):
                out.append(
                    f"つながり {e.source} → {e.target} が {a.stage_ja} から {b.stage_ja} へ逆向き（または同じ段）です。"
                )
        return out


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).replace(",", ""))
    except ValueError:
        return None


def _num_or_text(value: Any) -> Any:
    number = _number(value)
    return str(value) if number is None else number


def indicator_status(ind: Indicator, actuals: dict[int, float]) -> IndicatorStatus:
    """Compare the latest actual with the final target (direction-aware).

    * achieved: the latest actual meets the final target;
    * on track: it meets the straight line from the first actual (or the baseline) to the final
      target, evaluated at the latest actual's year (or the interim target set for that year);
    * behind: otherwise; no target (目標未設定): actuals but no numeric target; no data: no actual.
    """
    targets = {int(k): _number(v) for k, v in ind.targets.items()}
    targets = {k: v for k, v in targets.items() if v is not None}
    if not actuals:
        return IndicatorStatus(
            "no_data",
            target_fy=max(targets) if targets else None,
            target=targets[max(targets)] if targets else None,
        )
    latest_fy = max(actuals)
    latest = actuals[latest_fy]
    if not targets:
        return IndicatorStatus("no_target", latest_fy, latest)
    target_fy = max(targets)
    target = targets[target_fy]
    up = ind.direction == "up"

    def meets(value: float, goal: float) -> bool:
        return value >= goal - 1e-9 if up else value <= goal + 1e-9

    if meets(latest, target):
        return IndicatorStatus("achieved", latest_fy, latest, target_fy, target, target)
    if latest_fy in targets:
        expected = targets[latest_fy]
    else:
        base = ind.baseline or {}
        base_fy, base_value = base.get("fy"), _number(base.get("value"))
        if base_fy is None or base_value is None:
            base_fy = min(actuals)
            base_value = actuals[base_fy]
        base_fy = int(base_fy)
        if latest_fy >= target_fy or target_fy <= base_fy:
            expected = target
        else:
            expected = base_value + (target - base_value) * (latest_fy - base_fy) / (
                target_fy - base_fy
            )
    status = "on_track" if meets(latest, expected) else "behind"
    return IndicatorStatus(status, latest_fy, latest, target_fy, target, expected)


def bound_actuals(data: dict[str, Any]) -> dict[int, float]:
    """Actuals by fiscal year from the curated database for an indicator's ``data`` binding.

    ``kpi`` (a DX KPI of ``ebpm.data.kpi``), ``query`` (SQL yielding ``fy, value``) or ``table`` +
    ``column`` with ``agg`` and ``fy_column`` / ``date_column``; ``cumulative`` sums from ``from_fy``.
    """
    from ebpm.data.access import sql

    lo, hi = data.get("from_fy"), data.get("to_fy")
    if data.get("kpi"):
        from ebpm.data import kpi as kpi_mod

        frame = kpi_mod.kpi_actuals([data["kpi"]], **_fy_range(data, kpi_mod))
        return {int(r.fy): float(r.value) for r in frame.itertuples()}
    if data.get("query"):
        frame = sql(data["query"])
    else:
        frame = sql(_table_query(data))
    series = {int(r.fy): float(r.value) for r in frame.itertuples() if r.value is not None}
    if lo is not None:
        series = {k: v for k, v in series.items() if k >= int(lo)}
    if data.get("cumulative"):
        years = range(
            min(series, default=0), (int(hi) if hi is not None else max(series, default=-1)) + 1
        )
        total, cum = 0.0, {}
        for y in years:
            total += series.get(y, 0.0)
            cum[y] = total
        series = cum
    if hi is not None:
        series = {k: v for k, v in series.items() if k <= int(hi)}
    return dict(sorted(series.items()))


def _table_query(data: dict[str, Any]) -> str:
    """SQL for a ``table`` + ``column`` binding; identifiers must exist in the catalog (never free text)."""
    from ebpm.data.access import table_info
    from ebpm.errors import DataAccessError

    table = data["table"]
    info = table_info(table)  # Japanese error naming the tables when it is unknown
    known = {c["name"] for c in info["columns"]}
    names = [data.get("column"), data.get("fy_column"), data.get("date_column")]
    for name in names:
        if name is not None and name not in known:
            raise DataAccessError(
                f"列「{name}」はテーブル「{table}」にありません。ある列: {', '.join(sorted(known))}",
                table=table,
            )
    column, agg = data.get("column"), data.get("agg", "mean")
    if data.get("fy_column"):
        fy = f'"{data["fy_column"]}"'
    else:
        d = f'"{data.get("date_column", "date")}"'
        fy = f"CASE WHEN month({d}) >= 4 THEN year({d}) ELSE year({d}) - 1 END"
    value = {
        "mean": f'avg("{column}")',
        "sum": f'sum("{column}")',
        "count": "count(*)",
        "share_true": f'100.0 * avg(CASE WHEN "{column}" THEN 1 ELSE 0 END)',
    }[agg]
    return f'SELECT {fy} AS fy, {value} AS value FROM "{table}" GROUP BY 1 ORDER BY 1'


def _fy_range(data: dict[str, Any], kpi_mod) -> dict[str, int]:
    return {
        "start_fy": int(data.get("from_fy", getattr(kpi_mod, "PLAN_START_FY", 2021))),
        "end_fy": int(data.get("to_fy", getattr(kpi_mod, "PLAN_END_FY", 2025))),
    }


# ---------------------------------------------------------------- schema


def _year_map(chk: Checker, path: tuple) -> dict[int, Any]:
    value = chk.get(path)
    if value is None:
        return {}
    if not isinstance(value, dict):
        chk.problem(path, "年度: 値 の形で書いてください（例: 2025: 80）。")
        return {}
    out = {}
    for key, v in value.items():
        if not isinstance(key, int) or not 1900 <= key <= 2100:
            chk.problem((*path, key), f"年度「{key}」は西暦の年度（例: 2025）で書いてください。")
            continue
        out[key] = v
    return out


def validate(doc: YamlDoc) -> LogicModel:
    """Check a parsed logic-model file against the schema and build the model.

    Raises :class:`LogicModelError` naming the first problem's line and field and listing all.
    """
    chk = Checker(doc)
    if not isinstance(doc.data, dict):
        raise LogicModelError(
            "ロジックモデルのファイルは 項目: 値 の形で書いてください。", file=doc.file, line=1
        )
    chk.unknown_keys((), _TOP_KEYS)
    version = chk.require(("schema_version",), int, label="様式の版")
    if version is not None and version != SCHEMA_VERSION:
        chk.problem(
            ("schema_version",),
            f"様式の版 {version} には対応していません（{SCHEMA_VERSION} のみ）。",
        )
    model_id = chk.require(("id",), str, label="ID") or ""
    title = chk.require(("title",), str, label="題名") or ""
    chk.optional(("project",), dict)
    synthetic = chk.optional(("synthetic",), bool)
    raw_nodes = chk.require(("nodes",), list, label="ノードの一覧") or []
    nodes: list[Node] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_nodes):
        p = ("nodes", i)
        if not isinstance(raw, dict):
            chk.problem(p, "ノードは id・stage・statement を持つ項目の組で書いてください。")
            continue
        chk.unknown_keys(p, _NODE_KEYS)
        nid = chk.require((*p, "id"), (str, int), label="ノードID")
        if nid is not None:
            nid = str(nid)
            if nid in seen:
                chk.problem((*p, "id"), f"ノードID「{nid}」が重複しています。")
            seen.add(nid)
        stage = chk.enum((*p, "stage"), STAGE_ALIASES, label="段")
        statement = chk.require((*p, "statement"), str, label="目標・内容")
        indicator = None
        if chk.get((*p, "indicator")) is not None:
            indicator = _indicator(chk, (*p, "indicator"))
        if nid and stage and statement:
            nodes.append(
                Node(
                    nid,
                    stage,
                    statement,
                    indicator,
                    assumptions=str(raw.get("assumptions") or ""),
                    rs_number=str(raw.get("rs_number") or ""),
                )
            )
    edges: list[Edge] = []
    for i, raw in enumerate(chk.optional(("edges",), list) or []):
        p = ("edges", i)
        if not isinstance(raw, dict):
            chk.problem(p, "つながりは from・to を持つ項目の組で書いてください。")
            continue
        chk.unknown_keys(p, _EDGE_KEYS)
        src = chk.require((*p, "from"), (str, int), label="派生元")
        dst = chk.require((*p, "to"), (str, int), label="派生先")
        for key, value in (("from", src), ("to", dst)):
            if value is not None and str(value) not in seen:
                chk.problem((*p, key), f"ノード「{value}」は nodes にありません。")
        note = chk.optional((*p, "note"), str) or ""
        evidence = chk.optional((*p, "evidence"), list) or []
        if src is not None and dst is not None:
            edges.append(Edge(str(src), str(dst), note, evidence))
    chk.raise_if_any("ロジックモデル")
    return LogicModel(
        id=model_id,
        title=title,
        nodes=nodes,
        edges=edges,
        project=doc.data.get("project") or {},
        synthetic=bool(synthetic),
        notes=str(doc.data.get("notes") or ""),
        single_stage_reason=str(doc.data.get("single_stage_reason") or ""),
    )


def _indicator(chk: Checker, p: tuple) -> Indicator | None:
    if chk.check_type(p, chk.get(p), dict) is None:
        return None
    chk.unknown_keys(p, _IND_KEYS)
    name = chk.require((*p, "name"), str, label="指標名")
    unit = chk.optional((*p, "unit"), str) or ""
    direction = chk.enum((*p, "direction"), DIRECTIONS, label="改善の向き（上向き／下向き）")
    source = chk.optional((*p, "source"), str) or ""
    definition = chk.optional((*p, "definition"), str) or ""
    data = chk.optional((*p, "data"), dict)
    if data is not None:
        chk.unknown_keys((*p, "data"), _DATA_KEYS)
        kinds = [k for k in ("kpi", "query", "table") if data.get(k)]
        if len(kinds) != 1:
            chk.problem(
                (*p, "data"), "データの指定は kpi・query・table のどれか1つにしてください。"
            )
        if data.get("table") and data.get("agg", "mean") != "count" and not data.get("column"):
            chk.problem((*p, "data", "column"), "table を使うときは column（列）も書いてください。")
        if data.get("table"):
            chk.enum((*p, "data", "agg"), AGGS, required=False)
        for key in ("from_fy", "to_fy"):
            chk.optional((*p, "data", key), int)
        chk.optional((*p, "data", "cumulative"), bool)
    actuals = _year_map(chk, (*p, "actuals"))
    targets = _year_map(chk, (*p, "targets"))
    baseline = chk.optional((*p, "baseline"), dict)
    if data is not None and data.get("kpi"):
        targets = _kpi_targets(chk, (*p, "data", "kpi"), data["kpi"], targets)
    if name is None or direction is None:
        return None
    return Indicator(name, unit, direction, source, definition, data, actuals, targets, baseline)


def _kpi_targets(chk: Checker, path: tuple, key: Any, given: dict[int, Any]) -> dict[int, Any]:
    """A DX KPI's target comes from ``ebpm.data.kpi`` (one place); a different one in the file is an error."""
    from ebpm.data.kpi import DX_KPIS, PLAN_END_FY

    if key not in DX_KPIS:
        chk.problem(path, f"KPI「{key}」はありません。使える値: {'、'.join(DX_KPIS)}")
        return given
    target = {PLAN_END_FY: DX_KPIS[key].target}
    if given and {int(k): _number(v) for k, v in given.items()} != target:
        chk.problem(
            path[:-2] + ("targets",),
            f"KPI の目標値は ebpm.data.kpi の {target} です（ファイルでは書かないか、同じ値にしてください）。",
        )
    return target


def load_logic_model(path: str | Path) -> LogicModel:
    """Read and validate one logic-model YAML file."""
    p = Path(path)
    try:
        label = p.resolve().relative_to(paths().root).as_posix()
    except ValueError:
        label = p.name
    doc = read_yaml(p, label=label)
    model = validate(doc)
    model.path = p
    return model


def parse_logic_model(text: str, *, file: str = "logic_model.yml") -> LogicModel:
    """Validate logic-model YAML given as text (the same checks as a file)."""
    return validate(parse_yaml(text, file=file))


def logic_model_paths() -> dict[str, Path]:
    """slug -> file, from ``logic_models/<slug>.yml`` and ``studies/<slug>/logic_model.yml``."""
    found: dict[str, Path] = {}
    p = paths()
    for f in sorted(p.logic_models.glob("*.yml")):
        found[f.stem] = f
    for f in sorted(p.studies.glob("*/logic_model.yml")):
        found.setdefault(f.parent.name, f)
    return found


def logic_model(slug: str) -> LogicModel:
    """The logic model named ``slug`` (``logic_models/<slug>.yml`` or ``studies/<slug>/logic_model.yml``).

    Parameters
    ----------
    slug : str
        File name without ``.yml`` (``dx_plan``, ``cashless_counters`` …) or a path to a YAML file.

    Returns
    -------
    LogicModel
        Validated; ``.chart()`` draws it, ``.status()`` compares the indicators' actuals with targets.
    """
    if not isinstance(slug, (str, Path)):
        raise LogicModelError(
            "ロジックモデルは名前 slug を文字列で指定してください"
            f"（受け取った型: {type(slug).__name__}）。"
        )
    candidate = Path(slug)
    if candidate.suffix in (".yml", ".yaml") and candidate.exists():
        return load_logic_model(candidate)
    found = logic_model_paths()
    if slug not in found:
        import difflib

        known = "、".join(found) or "（なし）"
        close = difflib.get_close_matches(str(slug), list(found), n=3)
        hint = ("もしかして" + "・".join(f"「{c}」" for c in close) + "ですか？") if close else ""
        raise LogicModelError(
            f"ロジックモデル（slug）「{slug}」はありません。{hint}あるもの: {known}"
        )
    return load_logic_model(found[slug])
