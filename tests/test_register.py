"""Tests for ebpm.report.register: the evidence register (エビデンス台帳) in DuckDB."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from ebpm.report import register
from ebpm.report.register import RegisterError

FIXTURES = Path(__file__).parent / "fixtures" / "portal" / "reports"
DID = "did_study/20261126-141500-ab12"


@pytest.fixture()
def reports(tmp_path: Path) -> Path:
    root = tmp_path / "reports"
    shutil.copytree(FIXTURES, root)
    return root


def test_add_run_writes_headline_estimate_and_ci(reports: Path):
    reg = reports / "register.duckdb"
    run_id = register.add_run(reports / DID / "result.json", register=reg)
    assert run_id == "20261126-141500-ab12"
    frame = register.runs(register=reg)
    assert list(frame.columns) == register.COLUMNS
    row = frame.iloc[0]
    assert row["template"] == "did_study" and row["grade"] == "B"
    assert row["estimate"] == pytest.approx(-3.21) and row["ci_low"] == pytest.approx(-4.5)
    assert row["ci_high"] == pytest.approx(-1.92)
    assert row["parameters"] == {"outcome": "wait_minutes", "start": "2022-04-01"}
    assert row["grade_reasons"][0].startswith("導入時期")
    assert row["build_id"] == "20261126-120000-9f3e" and bool(row["synthetic"])
    assert row["report_path"] == DID
    assert str(row["created_at"]).startswith("2026-11-26 14:15")


def test_add_run_upserts_on_run_id(reports: Path):
    reg = reports / "register.duckdb"
    path = reports / DID / "result.json"
    register.add_run(path, register=reg)
    result = json.loads(path.read_text(encoding="utf-8"))
    result["grade"] = "C"
    path.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    register.add_run(path, register=reg)
    frame = register.runs(register=reg)
    assert len(frame) == 1 and frame.iloc[0]["grade"] == "C"


def test_sync_reads_every_run_and_keeps_failures(reports: Path):
    assert register.sync(reports) == 4
    frame = register.runs(register=reports / "register.duckdb")
    assert frame["run_id"].tolist()[0] == "20261126-141500-ab12"  # newest first (JST)
    failed = frame[frame["status"] == "failed"]
    assert len(failed) == 1 and failed["estimate"].isna().all()
    kpi = frame[frame["template"] == "dx_kpi_dashboard"].iloc[0]
    # 05:00 UTC is 14:00 in Japan time
    assert str(kpi["created_at"]).startswith("2026-11-26 14:00") and kpi["estimate"] == 72.0


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (
            {
                "run_id": "r",
                "template": "t",
                "headline": "h",
                "results": {"h": {"estimate": 1.5, "ci": [1, 2]}},
            },
            (1.5, 1.0, 2.0),
        ),
        ({"run_id": "r", "template": "t", "headline": "h", "results": {"h": 7}}, (7.0, None, None)),
        ({"run_id": "r", "template": "t", "headline": None, "results": {}}, (None, None, None)),
        (
            {
                "run_id": "r",
                "template": "t",
                "headline": "h",
                "results": {"h": {"estimate": None, "ci": [None, None]}},
            },
            (None, None, None),
        ),
    ],
)
def test_record_from_result_headline(result, expected):
    row = register.record_from_result(result)
    assert (row["estimate"], row["ci_low"], row["ci_high"]) == expected


def test_missing_run_id_is_refused_naming_the_file(tmp_path: Path):
    bad = tmp_path / "result.json"
    bad.write_text(json.dumps({"template": "did_study"}), encoding="utf-8")
    with pytest.raises(RegisterError) as err:
        register.add_run(bad, register=tmp_path / "register.duckdb")
    assert "run_id" in str(err.value) and err.value.file == str(bad)


def test_runs_is_empty_before_the_first_run(tmp_path: Path):
    frame = register.runs(register=tmp_path / "none.duckdb")
    assert frame.empty and list(frame.columns) == register.COLUMNS


def test_register_is_not_left_locked(reports: Path):
    import duckdb

    reg = reports / "register.duckdb"
    register.add_run(reports / DID / "result.json", register=reg)
    # a writer in this process released the file: a read-write open succeeds immediately
    duckdb.connect(str(reg)).close()


def _hold_lock(path: Path):
    """A process that holds the register open until told to let go (a line on its stdin)."""
    import subprocess
    import sys

    code = (
        "import duckdb, sys\n"
        f"con = duckdb.connect({str(path)!r})\n"
        "print('locked', flush=True)\n"
        "sys.stdin.readline()\n"
        "con.close()\n"
        "print('released', flush=True)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "locked"
    return proc


def _release(proc) -> None:
    proc.stdin.write("go\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == "released"


def test_add_run_waits_for_another_writer(reports: Path, monkeypatch):
    """The first wait between retries lets the other writer go: add_run must then succeed.

    No clock is involved: the release is triggered by add_run's own retry, not by a timer.
    """
    reg = reports / "register.duckdb"
    proc = _hold_lock(reg)
    waits: list[float] = []

    def wait_and_release(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 1:
            _release(proc)

    monkeypatch.setattr(register, "time", SimpleNamespace(sleep=wait_and_release))
    try:
        assert register.add_run(reports / DID / "result.json", register=reg)
    finally:
        if proc.poll() is None and not waits:
            _release(proc)
        proc.wait(timeout=30)
    assert waits, "add_run never waited for the other writer"
    assert len(register.runs(register=reg)) == 1


def test_busy_register_gives_a_japanese_message(reports: Path, monkeypatch):
    reg = reports / "register.duckdb"
    monkeypatch.setattr(register, "_LOCK_RETRIES", 2)
    monkeypatch.setattr(register, "time", SimpleNamespace(sleep=lambda s: None))  # never let go
    proc = _hold_lock(reg)
    try:
        with pytest.raises(RegisterError, match="使用中"):
            register.add_run(reports / DID / "result.json", register=reg)
    finally:
        proc.kill()
        proc.wait(timeout=30)
