"""Every path and setting of the project, derived from one root (env overrides: EBPM_*)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _find_root() -> Path:
    env = os.environ.get("EBPM_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "data").is_dir():
            return parent
    return Path.cwd().resolve()


@dataclass(frozen=True)
class Paths:
    """Project paths. Build one with :func:`paths`; override pieces with EBPM_* variables."""

    root: Path
    raw: Path
    catalog: Path
    curated: Path
    reports: Path
    templates: Path
    training: Path
    shared: Path

    @property
    def database(self) -> Path:
        """The curated snapshot that notebooks open read-only."""
        return self.curated / "ebpm.duckdb"

    @property
    def manifest(self) -> Path:
        return self.curated / "manifest.json"

    @property
    def dictionary(self) -> Path:
        return self.curated / "dictionary.html"

    @property
    def register(self) -> Path:
        """Evidence register (エビデンス台帳): a DuckDB file outside the curated snapshot."""
        return self.reports / "register.duckdb"

    @property
    def logic_models(self) -> Path:
        """Logic models (ロジックモデル), one YAML per policy: ``logic_models/<slug>.yml``."""
        return _env_path("EBPM_LOGIC_MODELS", self.root / "logic_models")

    @property
    def studies(self) -> Path:
        """Study folders ``studies/<slug>/`` (logic model, analysis plan, runs, notes)."""
        return _env_path("EBPM_STUDIES", self.root / "studies")

    @property
    def cases(self) -> Path:
        """The case-study library (取組事例): ``data/cases/*.yml``."""
        return _env_path("EBPM_CASES", self.root / "data" / "cases")


def _env_path(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    return Path(value).resolve() if value else default


def paths() -> Paths:
    """Return the project paths, re-reading the environment each call (tests change it)."""
    root = _find_root()

    def pick(var: str, default: Path) -> Path:
        value = os.environ.get(var)
        return Path(value).resolve() if value else default

    return Paths(
        root=root,
        raw=pick("EBPM_RAW", root / "data" / "raw"),
        catalog=pick("EBPM_CATALOG", root / "data" / "catalog"),
        curated=pick("EBPM_CURATED", root / "data" / "curated"),
        reports=pick("EBPM_REPORTS", root / "reports"),
        templates=pick("EBPM_TEMPLATES", root / "notebooks" / "templates"),
        training=pick("EBPM_TRAINING", root / "training"),
        shared=pick("EBPM_SHARED", root.parent / "shared"),
    )


# Settings that are not paths.
DEFAULT_DISCLOSURE_THRESHOLD = 10  # 人数の表の一次秘匿しきい値（既定）
ESTAT_APP_ID_ENV = "ESTAT_APP_ID"  # never written anywhere
ESTAT_CREDIT = (
    "このサービスは、政府統計総合窓口(e-Stat)のAPI機能を使用していますが、"
    "サービスの内容は国によって保証されたものではありません。"
)
