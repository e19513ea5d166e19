"""Batch planning: grid files, --over param=all, validation of every set before any kernel starts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ebpm.errors import ParameterError
from ebpm.report.batch import over_all, plan, read_grid
from ebpm.report.params import load_schema

FIXTURES = Path(__file__).parent / "fixtures" / "reports"
ROOT = Path(__file__).resolve().parents[1]


def _ebpm_run(*args, **env: str | None) -> subprocess.CompletedProcess:
    """`ebpm run ARGS` in a new process that leaves no warm spare; ``env`` sets variables (None
    removes one)."""
    full = {**os.environ, "EBPM_KEEP_WARM": "0"}
    for name, value in env.items():
        if value is None:
            full.pop(name, None)
        else:
            full[name] = value
    command = [str(Path(sys.executable).parent / "ebpm"), "run", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, env=full)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- {n: 2}\n- {n: 3, kind: b}\n", [{"n": 2}, {"n": 3, "kind": "b"}]),
        (
            "product: {n: [2, 3], kind: [a, b]}\nfixed: {label: 都南}\n",
            [
                {"label": "都南", "n": 2, "kind": "a"},
                {"label": "都南", "n": 2, "kind": "b"},
                {"label": "都南", "n": 3, "kind": "a"},
                {"label": "都南", "n": 3, "kind": "b"},
            ],
        ),
        ("product: {n: 4}\n", [{"n": 4}]),
    ],
)
def test_read_grid(tmp_path, text, expected):
    path = tmp_path / "grid.yml"
    path.write_text(text, encoding="utf-8")
    assert read_grid(path) == expected


@pytest.mark.parametrize("text", ["n: [1, 2]\n", "- 1\n- 2\n", "product: [1]\n"])
def test_read_grid_refuses_other_shapes(tmp_path, text):
    path = tmp_path / "grid.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ParameterError, match="グリッドは"):
        read_grid(path)


def test_over_all_expands_enum_and_list_choices():
    schema = load_schema(FIXTURES / "basic.ipynb")
    assert over_all(schema, "kind=all") == [{"kind": "a"}, {"kind": "b"}, {"kind": "c"}]
    assert over_all(schema, "offices=all")[0] == {"offices": ["本庁"]}
    with pytest.raises(ParameterError, match="選択肢のあるパラメータ=all"):
        over_all(schema, "n=all")
    with pytest.raises(ParameterError, match="『zz』"):
        over_all(schema, "zz=all")


def test_plan_validates_every_set_first_and_names_the_bad_one(tmp_path):
    with pytest.raises(ParameterError, match="2番目の組: パラメータ『n』は整数"):
        plan(str(FIXTURES / "basic.ipynb"), [{"n": 2}, {"n": "x"}], out_root=tmp_path)
    jobs = plan(
        str(FIXTURES / "basic.ipynb"), [{"n": 2}, {"n": 3}], base={"kind": "c"}, out_root=tmp_path
    )
    assert [j.values["n"] for j in jobs] == [2, 3] and {j.values["kind"] for j in jobs} == {"c"}
    assert len({j.run_id for j in jobs}) == 2 and all(j.out_dir.parent == tmp_path for j in jobs)


def test_plan_passes_no_register_to_every_job(tmp_path):
    jobs = plan(str(FIXTURES / "basic.ipynb"), [{"n": 2}, {"n": 3}], out_root=tmp_path)
    assert all(j.register for j in jobs)
    jobs = plan(
        str(FIXTURES / "basic.ipynb"), [{"n": 2}, {"n": 3}], out_root=tmp_path, register=False
    )
    assert not any(j.register for j in jobs)


@pytest.mark.slow
def test_batch_run_with_no_register_leaves_the_register_byte_identical(tmp_path):
    """`ebpm run … --grid … --no-register` under reports/ must not write the shared register."""
    from ebpm.report.register import add_run

    reports = tmp_path / "reports"
    seed = reports / "seed" / "r0"
    seed.mkdir(parents=True)
    (seed / "result.json").write_text(
        json.dumps({"run_id": "r0", "template": "seed", "status": "ok"}), encoding="utf-8"
    )
    register = reports / "register.duckdb"
    add_run(seed / "result.json", register=register)
    before = register.read_bytes()
    grid = tmp_path / "grid.yml"
    grid.write_text("- {n: 2}\n- {n: 3}\n", encoding="utf-8")

    def batch(out, *flags):
        return _ebpm_run(
            FIXTURES / "basic.ipynb", "--grid", grid, "--out", out, "--workers", 1, "--no-pdf",
            *flags, EBPM_REPORTS=str(reports),
        )  # fmt: skip

    done = batch(reports / "basic", "--no-register")
    assert done.returncode == 0, done.stderr[-800:]
    written = sorted(reports.glob("basic/*/result.json"))
    assert len(written) == 2  # both reports were made, under reports/ …
    assert register.read_bytes() == before  # … and the register was not touched
    assert not (reports / "register.duckdb.wal").exists()
    # a scratch batch outside reports/ never registers, even without --no-register
    done = batch(tmp_path / "scratch")
    assert done.returncode == 0, done.stderr[-800:]
    assert len(list((tmp_path / "scratch").glob("*/result.json"))) == 2
    assert register.read_bytes() == before


def test_plan_many_gives_each_template_its_defaults_and_folder(tmp_path):
    from ebpm.report.batch import batch_warmup, plan_many

    basic, raw = str(FIXTURES / "basic.ipynb"), str(FIXTURES / "raw_table.ipynb")
    jobs = plan_many([basic, raw, basic], out_root=tmp_path)
    assert [j.schema.name for j in jobs] == ["basic", "raw_table"]  # a repeated name runs once
    assert [j.out_dir for j in jobs] == [tmp_path / "basic", tmp_path / "raw_table"]
    from ebpm.report.params import validate

    assert jobs[0].values == validate(load_schema(FIXTURES / "basic.ipynb"), {})
    warm = batch_warmup(jobs)
    from ebpm.report import warm as warm_mod
    from ebpm.report.runner import warmup_lines

    # both templates' imports are warmed, each statement once (the heap frozen once, at the end)
    for nb in (basic, raw):
        for line in warmup_lines(nb):
            assert f"try:\n    {line}\n" in warm, line
    assert warm.count("import ebpm.report.kernel\n") == 1
    assert warm.count(warm_mod.GC_FREEZE) == 1


@pytest.mark.parametrize(
    ("flags", "named"),
    [(["-p", "n=2"], "-p"), (["--over", "kind=all"], "--over"), (["--plan", "x"], "--plan")],
)
def test_several_templates_refuse_options_that_set_parameters(tmp_path, flags, named):
    done = _ebpm_run(
        FIXTURES / "basic.ipynb", FIXTURES / "raw_table.ipynb", "--out", tmp_path, *flags
    )
    assert done.returncode != 0
    assert "テンプレートを複数並べたとき" in done.stderr and named in done.stderr
    assert not any(tmp_path.iterdir())  # refused before anything was written


@pytest.mark.slow
def test_several_templates_in_one_command(tmp_path):
    """`ebpm run A B` (what `make demo` does): one batch, each template with its defaults;
    `--publish` shares every finished report."""
    # a second template: a copy of basic under another name
    for suffix in (".ipynb", ".params.yml"):
        shutil.copy(FIXTURES / f"basic{suffix}", tmp_path / f"second{suffix}")
    reports, shared = tmp_path / "reports", tmp_path / "shared"
    done = _ebpm_run(
        FIXTURES / "basic.ipynb", tmp_path / "second.ipynb", "--workers", 1, "--no-pdf", "--publish",
        EBPM_REPORTS=str(reports), EBPM_PORTAL_SHARED=str(shared),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-800:]
    assert "2 件のレポートを 1 並列で作成します" in done.stderr
    for name in ("basic", "second"):
        (out,) = (reports / name).iterdir()  # reports/<template>/<run id>/, as a single run
        result = json.loads((out / "result.json").read_text(encoding="utf-8"))
        assert result["status"] == "ok" and result["template"] == name
        assert f"完了 {out}/index.html" in done.stderr
        assert (shared / name / out.name / "result.json").is_file()  # shared, as --publish says
    assert "共有のレポート一覧に載せました" in done.stderr and "（2 件）" in done.stderr


def test_publish_without_a_shared_folder_is_refused_before_any_report(tmp_path):
    done = _ebpm_run(
        FIXTURES / "basic.ipynb", "--out", tmp_path / "out", "--no-pdf", "--publish",
        EBPM_PORTAL_SHARED=None,
    )  # fmt: skip
    assert done.returncode != 0 and "EBPM_PORTAL_SHARED" in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("notebook", "draws"),
    [
        ("notebooks/templates/dx_kpi_dashboard.ipynb", True),
        ("notebooks/templates/population_profile.ipynb", True),
        ("tests/fixtures/reports/basic.ipynb", True),  # an Altair chart
        ("tests/fixtures/reports/raw_table.ipynb", False),
        ("tests/fixtures/reports/typed_grade.ipynb", False),
    ],
)
def test_warm_up_starts_the_chart_renderer_only_for_notebooks_that_may_draw(notebook, draws):
    from ebpm.report.runner import warmup_source

    code = warmup_source(ROOT / notebook)
    assert ("warm_renderer()" in code) is draws
    compile(code, notebook, "exec")  # and it is valid Python either way
