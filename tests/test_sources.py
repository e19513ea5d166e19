"""Every data/raw/<source>/SOURCE.yml: required keys, every file listed with its sha256; copies are byte-exact."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml
from ebpm import config
from ebpm.data.spec import IGNORED_FILES, SOURCE_REQUIRED_KEYS, load_source, source_problems

RAW = Path(__file__).resolve().parents[1] / "data" / "raw"


def _folders() -> list[Path]:
    """Raw folders holding data (a folder with only a README, like an empty cache, is not a source)."""
    out = []
    for folder in sorted(p for p in RAW.iterdir() if p.is_dir()):
        files = [f for f in folder.rglob("*") if f.is_file() and f.name not in IGNORED_FILES]
        if files or (folder / "SOURCE.yml").exists():
            out.append(folder)
    return out


@pytest.mark.parametrize("folder", _folders(), ids=lambda p: p.name)
def test_source_yml_is_complete(folder):
    assert source_problems(folder) == []
    meta = load_source(folder)
    for key in SOURCE_REQUIRED_KEYS:
        assert key in meta
    assert isinstance(meta["synthetic"], bool)
    for entry in meta["files"].values():
        assert len(entry.get("sha256", "")) == 64, entry["path"]


def test_required_public_sources_are_present():
    names = {p.name for p in _folders()}
    assert {
        "iwate_estat_municipal",
        "soumu_juki_population",
        "abr_address_master",
        "gsi_shelters_morioka",
        "estat_census2020_prelim",
        "geo_iwate_municipalities",
    } <= names


def _real_sources():
    for folder in _folders():
        meta = yaml.safe_load((folder / "SOURCE.yml").read_text(encoding="utf-8"))
        if meta.get("synthetic") is False:
            for entry in meta["files"]:
                if entry.get("origin_path"):
                    yield pytest.param(folder, entry, id=f"{folder.name}/{entry['path']}")


@pytest.mark.parametrize(("folder", "entry"), list(_real_sources()))
def test_copies_match_the_shared_originals(folder, entry):
    """Byte-for-byte copies of ../shared/data/public (skipped when the shared folder is absent)."""
    original = config.paths().shared / "data" / "public" / entry["origin_path"]
    if not original.exists():
        pytest.skip("../shared/data/public がありません")
    copy = folder / entry["path"]
    assert (
        hashlib.sha256(copy.read_bytes()).digest() == hashlib.sha256(original.read_bytes()).digest()
    )
    assert copy.name == original.name  # original file names are kept
