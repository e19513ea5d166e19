"""Docs are tested too: the CLI reference is generated, public names and modules are documented."""

import importlib
import pkgutil
import sys
from pathlib import Path

import ebpm
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _docs_text() -> str:
    return "\n".join(
        p.read_text(encoding="utf-8") for p in [ROOT / "README.md", *DOCS.glob("*.md")]
    )


def test_cli_reference_is_current():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import cli_reference
    finally:
        sys.path.pop(0)
    expected = cli_reference.render()
    assert (DOCS / "cli.md").read_text(encoding="utf-8") == expected, (
        "docs/cli.md が古くなっています。`.venv/bin/python tools/cli_reference.py` で作り直してください。"
    )


@pytest.mark.parametrize("name", [n for n in ebpm.__all__ if not n.startswith("__")])
def test_public_name_has_docstring_and_docs(name):
    obj = getattr(ebpm, name)
    assert (obj.__doc__ or "").strip(), f"ebpm.{name} に docstring がありません"
    text = _docs_text()
    assert f"ebpm.{name}" in text, f"ebpm.{name} が docs/ にも README にも書かれていません"


def _modules():
    root = ROOT / "lib"
    for info in pkgutil.walk_packages([str(root / "ebpm")], prefix="ebpm."):
        yield info.name


@pytest.mark.parametrize("module", sorted(_modules()))
def test_every_module_says_what_it_is_for(module):
    mod = importlib.import_module(module)
    first = (mod.__doc__ or "").strip().splitlines()
    assert first and first[0], f"{module} の先頭に役割を述べる docstring がありません"


def test_public_names_survive_submodule_imports():
    """A submodule named like a public function would replace it on the package (ebpm.catalog)."""
    for module in _modules():
        importlib.import_module(module)
    for name in ebpm.__all__:
        if not name.startswith("__"):
            assert callable(getattr(ebpm, name)), f"ebpm.{name} がモジュールに置き換わっています"
            assert not isinstance(getattr(ebpm, name), type(ebpm)), name
