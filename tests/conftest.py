"""Suite-wide guards: no test writes into the project's own reports/ or evidence register."""

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _isolated_reports(tmp_path_factory):
    """Point EBPM_REPORTS at a temporary folder for the whole session (tests may override it)."""
    saved = {k: os.environ.get(k) for k in ("EBPM_REPORTS", "EBPM_KEEP_WARM")}
    os.environ["EBPM_REPORTS"] = str(tmp_path_factory.mktemp("reports"))
    os.environ["EBPM_KEEP_WARM"] = "0"  # no spare kernels outlive the suite (warm tests opt in)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def project(tmp_path, monkeypatch):
    """The tiny data-layer project (tests/fixtures/data) copied to tmp_path, EBPM_RAW/CATALOG/CURATED
    pointing at it (used by the build, data and CLI tests)."""
    import shutil
    from pathlib import Path

    fixtures = Path(__file__).parent / "fixtures" / "data"
    shutil.copytree(fixtures / "raw", tmp_path / "raw")
    shutil.copytree(fixtures / "catalog", tmp_path / "catalog")
    (tmp_path / "curated").mkdir()
    monkeypatch.setenv("EBPM_RAW", str(tmp_path / "raw"))
    monkeypatch.setenv("EBPM_CATALOG", str(tmp_path / "catalog"))
    monkeypatch.setenv("EBPM_CURATED", str(tmp_path / "curated"))
    return tmp_path


@pytest.fixture(scope="session")
def full_curated(tmp_path_factory):
    """The whole catalog built by `ebpm build` into a temporary folder (the study-library tests).

    Yields the folder; EBPM_CURATED points at it while the tests that ask for it run.
    """
    import subprocess
    import sys
    from pathlib import Path

    cur = tmp_path_factory.mktemp("curated_full")
    env = {**os.environ, "EBPM_CURATED": str(cur)}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ebpm"), "build", "-q"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-800:]
    saved = os.environ.get("EBPM_CURATED")
    os.environ["EBPM_CURATED"] = str(cur)
    yield cur
    if saved is None:
        os.environ.pop("EBPM_CURATED", None)
    else:
        os.environ["EBPM_CURATED"] = saved


@pytest.fixture(scope="session")
def default_reports(full_curated, tmp_path_factory):
    """``{template: output folder}``: every template rendered once with its defaults and a PDF, on the
    full build. Shared by the page tests and the study-library tests, which run in one xdist group
    (``full_curated``) so that a session renders the templates once, not once per module and worker."""
    from pathlib import Path

    from ebpm.report import render
    from ebpm.report.runner import run

    templates = sorted(
        p.stem
        for p in (Path(__file__).resolve().parents[1] / "notebooks" / "templates").glob("*.ipynb")
    )
    out = tmp_path_factory.mktemp("default_reports")
    outs = {}
    for name in templates:
        outcome = run(name, {}, out=out / name, pdf=Path(render.CHROMIUM).exists(), cold=True)
        assert outcome.status == "ok", (name, outcome.error)
        outs[name] = Path(outcome.out_dir)
    return outs
