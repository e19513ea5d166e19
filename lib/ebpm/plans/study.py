"""Study folders ``studies/<slug>/`` (logic model, plan, runs, notes) and their status 計画中〜公開."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ebpm.config import paths

STATUSES = ("計画中", "登録済", "実施済", "公開")


@dataclass
class Study:
    """One study folder and what the evidence register knows about it."""

    slug: str
    folder: Path
    title: str = ""
    template: str = ""
    status: str = "計画中"
    locked_at: str | None = None
    sha256: str | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)
    published_run: str | None = None
    changed_since_lock: list[str] = field(default_factory=list)
    has_logic_model: bool = False
    error: str = ""

    @property
    def latest_run(self) -> dict[str, Any] | None:
        return self.runs[0] if self.runs else None


def study_status(*, locked: bool, runs: int, published: bool) -> str:
    """計画中 (a plan, not locked) → 登録済 (locked) → 実施済 (run with the plan) → 公開 (published)."""
    if published:
        return "公開"
    if runs:
        return "実施済"
    if locked:
        return "登録済"
    return "計画中"


def studies(
    *,
    locks: dict[str, dict[str, Any]] | None = None,
    runs: dict[str, list[dict[str, Any]]] | None = None,
    published: dict[str, str] | None = None,
) -> list[Study]:
    """Every ``studies/<slug>/`` with its status.

    Parameters
    ----------
    locks : dict, optional
        slug -> latest lock (``sha256``, ``locked_at``, ``canonical``) from the evidence register.
    runs : dict, optional
        slug -> runs made with ``--plan`` (newest first; ``run_id``, ``report_path`` …).
    published : dict, optional
        slug -> run id marked 公開.
    """
    from ebpm.ingest.yamlfile import SchemaError
    from ebpm.plans.plan import load_plan

    locks, runs, published = locks or {}, runs or {}, published or {}
    out = []
    root = paths().studies
    for folder in sorted(p for p in root.glob("*") if p.is_dir()):
        slug = folder.name
        study = Study(
            slug=slug, folder=folder, has_logic_model=(folder / "logic_model.yml").exists()
        )
        lock = locks.get(slug)
        if (folder / "plan.yml").exists():
            try:
                plan = load_plan(slug)
                study.title, study.template = plan.title, plan.template
                if lock:
                    study.changed_since_lock = [
                        d.field for d in plan.changes_since(lock["canonical"])
                    ]
            except SchemaError as err:
                study.error = str(err)
        if lock:
            study.locked_at, study.sha256 = str(lock["locked_at"]), lock["sha256"]
        study.runs = list(runs.get(slug, []))
        study.published_run = published.get(slug)
        study.status = study_status(
            locked=bool(lock), runs=len(study.runs), published=bool(study.published_run)
        )
        out.append(study)
    return out
