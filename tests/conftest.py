"""Suite-wide guards: no test writes into the project's own reports/ or evidence register."""

import os
import sys

import pytest

# PYTHONDONTWRITEBYTECODE=1 (this machine, CI, most container images) also stops pytest from caching
# the assertion-rewritten test modules, so every xdist worker rewrote and compiled all test files on
# every run: about 4.5 of the 10 CPU-s a worker spends collecting. The project's own code is
# byte-compiled anyway (make setup runs compileall on lib/); the suite caches its rewritten tests
# the same way, in tests/__pycache__ (git-ignored). Test modules are imported after this file.
sys.dont_write_bytecode = False


def pytest_sessionfinish(session, exitstatus):
    """Skip Python's final full garbage collection when a worker exits (as ebpm.cli.main does)."""
    import gc

    gc.freeze()


@pytest.fixture(scope="session", autouse=True)
def _isolated_reports(tmp_path_factory):
    """Point EBPM_REPORTS and EBPM_CURATED at temporary folders for the whole session (tests may
    override them)."""
    saved = {k: os.environ.get(k) for k in ("EBPM_REPORTS", "EBPM_KEEP_WARM", "EBPM_CURATED")}
    os.environ["EBPM_REPORTS"] = str(tmp_path_factory.mktemp("reports"))
    # No test reads the project's own data/curated (empty on a fresh clone) or a database another test
    # happened to build earlier on the same worker: a test that needs data asks for `with_curated`
    # (the full build) or builds its own. This keeps results independent of test order and xdist.
    os.environ["EBPM_CURATED"] = str(tmp_path_factory.mktemp("curated_empty"))
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
def _tiny_curated(tmp_path_factory):
    """The tiny project (tests/fixtures/data) built once per worker by ``ebpm.data.builder.build``;
    only :func:`tiny_built` reads it, and it hands each test a copy."""
    import shutil
    from pathlib import Path

    from ebpm.data import builder

    fixtures = Path(__file__).parent / "fixtures" / "data"
    base = tmp_path_factory.mktemp("tiny_built")
    shutil.copytree(fixtures / "raw", base / "raw")
    shutil.copytree(fixtures / "catalog", base / "catalog")
    (base / "curated").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EBPM_RAW", str(base / "raw"))
        mp.setenv("EBPM_CATALOG", str(base / "catalog"))
        mp.setenv("EBPM_CURATED", str(base / "curated"))
        builder.build()
    return base / "curated"


@pytest.fixture
def tiny_built(project, _tiny_curated):
    """``project`` already built: its curated folder is a copy of one build of the same raw files
    and catalog (0.2 CPU-s a build saved per test). For tests that read or refuse to write the
    data; the build itself (and what it writes) is tested on fresh builds in tests/test_build*.py."""
    import shutil

    shutil.rmtree(project / "curated")
    shutil.copytree(_tiny_curated, project / "curated")
    return project


@pytest.fixture
def runtime(tmp_path, monkeypatch):
    """A private Jupyter runtime folder (warm spares, the PDF printer) and reports folder; whatever a
    test left waiting there is stopped afterwards."""
    from ebpm.report import warm

    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("EBPM_REPORTS", str(tmp_path / "reports"))
    yield tmp_path
    warm.stop_all()


@pytest.fixture(scope="session")
def full_curated(tmp_path_factory, worker_id):
    """The whole catalog built once per test session by `ebpm build` into a temporary folder.

    The xdist workers of one session share it (the first to get the lock builds, the other waits for
    it instead of building the same 20 tables again); tests only read it. Returns the folder without
    pointing EBPM_CURATED at it: tests ask for ``with_curated``, which does that for one test only, so
    that no test depends on another having built the data first.
    """
    import fcntl
    import subprocess
    import sys
    from pathlib import Path

    base = tmp_path_factory.getbasetemp()
    session = base.parent if worker_id != "master" else base  # pytest-N: this session's own folder
    cur = session / "curated_full"
    with open(session / "curated_full.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if the build fails
        if not (cur / "manifest.json").exists():
            env = {**os.environ, "EBPM_CURATED": str(cur)}
            done = subprocess.run(
                [str(Path(sys.executable).parent / "ebpm"), "build", "-q"],
                capture_output=True,
                text=True,
                env=env,
            )
            assert done.returncode == 0, done.stderr[-800:]
    return cur


@pytest.fixture
def with_curated(full_curated, monkeypatch):
    """EBPM_CURATED points at the full build for this test (and the processes it starts)."""
    monkeypatch.setenv("EBPM_CURATED", str(full_curated))
    return full_curated


@pytest.fixture(scope="session")
def default_reports(full_curated, tmp_path_factory):
    """``{template: output folder}``: every template rendered once with its defaults and a PDF, on the
    full build. Shared by the page tests and the study-library tests, which run in one xdist group
    (``full_curated``) so that a session renders the templates once, not once per module and worker.

    Rendered as ``make demo`` renders them (``ebpm run`` with every template: one worker, whose
    kernel is reset between reports, and one Chromium); the single-run path is tested elsewhere."""
    from pathlib import Path

    from ebpm.report import render
    from ebpm.report.batch import plan_many, run_batch

    templates = sorted(
        p.stem
        for p in (Path(__file__).resolve().parents[1] / "notebooks" / "templates").glob("*.ipynb")
    )
    out = tmp_path_factory.mktemp("default_reports")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EBPM_CURATED", str(full_curated))
        jobs = plan_many(templates, out_root=out)
        outcomes = run_batch(jobs, workers=1, pdf=Path(render.CHROMIUM).exists())
    for outcome in outcomes:
        assert outcome.status == "ok", (outcome.template, outcome.error)
    return {o.template: Path(o.out_dir) for o in outcomes}
