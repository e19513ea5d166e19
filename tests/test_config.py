"""Paths come from one place and follow EBPM_* overrides."""

from pathlib import Path

from ebpm import config


def test_paths_default_to_project_root(monkeypatch):
    monkeypatch.delenv("EBPM_CURATED", raising=False)  # the suite points it at an empty folder
    p = config.paths()
    assert (p.root / "pyproject.toml").exists()
    assert p.database == p.root / "data" / "curated" / "ebpm.duckdb"


def test_env_override(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("EBPM_CURATED", str(tmp_path))
    assert config.paths().database == tmp_path / "ebpm.duckdb"


def test_import_is_lazy():
    import subprocess
    import sys

    code = "import sys, ebpm; print('pandas' in sys.modules, 'statsmodels' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_estimator_access_pulls_only_what_the_estimator_module_needs():
    """`ebpm.did` (attribute access, no call) loads pandas but not scipy.stats, statsmodels or altair:
    the methods package binds every estimator, so one top-level scipy import there taxed them all."""
    import subprocess
    import sys

    heavy = ["scipy.stats", "statsmodels", "altair", "vl_convert"]
    code = (
        f"import sys, ebpm; ebpm.did; ebpm.load; print([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_kpi_projection_does_not_import_scipy_stats():
    """The DX dashboard projects KPIs with a t quantile; taking it from scipy.special (which
    scipy.stats.t.ppf calls) spares a dashboard report's kernel the scipy.stats import (~0.7 s)."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom ebpm.methods.trend import linear_projection\n"
        "linear_projection([2021, 2022, 2023], [1.0, 2.5, 2.9], to_year=2025)\n"
        "print('scipy.stats' in sys.modules, 'statsmodels' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"
