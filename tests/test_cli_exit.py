"""`ebpm` ends without Python's final full garbage collection (ebpm.cli.main freezes the heap when the
command has finished): about 0.4 s of every command's exit, measured in bench-style runs."""

from __future__ import annotations

import gc
import sys

import pytest
from ebpm.cli import main


def test_main_freezes_the_heap_after_the_command(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["ebpm", "version"])
    gc.unfreeze()
    try:
        with pytest.raises(SystemExit) as done:
            main()
        assert done.value.code in (0, None)
        assert "ebpm" in capsys.readouterr().out
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # the rest of the suite collects as usual


def test_main_freezes_the_heap_after_an_error_too(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["ebpm", "run", "no_such_template", "--out", "x"])
    gc.unfreeze()
    try:
        with pytest.raises(SystemExit) as done:
            main()
        assert done.value.code == 1
        assert "no_such_template" in capsys.readouterr().err
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
