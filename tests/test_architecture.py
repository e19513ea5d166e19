"""The package layout follows the data flow: a lower stage never imports a higher one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[1] / "lib" / "ebpm"

BASE = {"config", "errors", "result", "labels", "_lazy", "__init__", "__version__"}
# stage -> the stages it may import (besides itself and BASE). Mirrors docs/architecture.md.
ALLOWED: dict[str, set[str]] = {
    "ingest": set(),
    "estat": {"ingest"},
    "data": {"ingest", "estat"},
    "synth_city": {"ingest", "data"},
    "disclosure": {"data"},
    "charts": {"ingest"},
    "methods": {"charts", "ingest"},
    "logic": {"data", "charts", "methods", "ingest"},
    "plans": {"data", "charts", "methods", "ingest", "logic"},
    "cases": {"data", "charts", "ingest"},
    "studies": {"data", "charts", "methods", "ingest", "disclosure"},
    "report": {
        "ingest",
        "estat",
        "data",
        "synth_city",
        "disclosure",
        "charts",
        "methods",
        "logic",
        "plans",
        "cases",
        "studies",
    },
    "publish": {"ingest", "data", "disclosure", "charts"},
    "training": {
        "ingest",
        "data",
        "synth_city",
        "disclosure",
        "charts",
        "methods",
        "logic",
        "plans",
        "cases",
        "report",
    },
    "cli": None,  # the command line may import everything
}


def _stage(path: Path) -> str:
    rel = path.relative_to(LIB)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 else rel.stem


def _imported_stages(path: Path) -> set[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[tuple[str, int]] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "ebpm":
                names = [f"ebpm.{a.name}" for a in node.names]
            else:
                names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "ebpm" and len(parts) > 1:
                found.add((parts[1], node.lineno))
    return found


def _modules() -> list[Path]:
    return sorted(p for p in LIB.rglob("*.py"))


def test_every_module_belongs_to_a_known_stage():
    stages = {_stage(p) for p in _modules()}
    unknown = stages - set(ALLOWED) - BASE
    assert not unknown, f"new top-level modules or packages need a row in ALLOWED: {unknown}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(LIB)))
def test_imports_go_one_way(path):
    stage = _stage(path)
    allowed = ALLOWED.get(stage, set())
    if allowed is None:
        return
    if stage in BASE:
        bad = [(s, n) for s, n in _imported_stages(path) if s not in BASE]
    else:
        bad = [(s, n) for s, n in _imported_stages(path) if s not in BASE | allowed | {stage}]
    assert not bad, f"{path.relative_to(LIB)} imports a higher stage: {bad}"


def test_flat_modules_are_gone():
    """Stages are packages: no ``ingest_*.py`` / ``estat_*.py`` families at the top level."""
    flat = sorted(p.name for p in LIB.glob("*.py") if p.stem not in BASE)
    assert flat == [], flat


def test_lazy_exports_never_shadow_a_submodule():
    """``from ebpm.ingest import read`` must give the module whether or not it was imported before."""
    import importlib
    import pkgutil

    for pkg_dir in sorted(p.parent for p in LIB.glob("*/__init__.py")):
        name = f"ebpm.{pkg_dir.name}"
        pkg = importlib.import_module(name)
        exports = set(pkg.__dir__()) if "__dir__" in vars(pkg) else set()
        subs = {m.name for m in pkgutil.iter_modules([str(pkg_dir)])}
        assert not exports & subs, f"{name}: lazy names shadow submodules {exports & subs}"
