"""Security review (docs/security.md): one test per threat that is not already covered elsewhere."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ebpm.errors import DataAccessError, ParameterError, PublishError

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
REPORT_FIXTURES = ROOT / "tests" / "fixtures" / "reports"
XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"
SECRET = "SECRET-4711-職員番号123456"


@pytest.fixture
def built(tiny_built):
    return tiny_built


# --- T1 SQL injection: values bound, identifiers only from the catalog -------------------------


@pytest.mark.parametrize(
    "hostile",
    ["03201' OR '1'='1", "03201'; DROP TABLE population; --", "' UNION SELECT * FROM area --"],
)
def test_sql_values_are_bound_never_pasted(built, hostile):
    import ebpm

    by_sql = ebpm.sql("SELECT count(*) AS n FROM population WHERE area_code = $c", {"c": hostile})
    assert int(by_sql["n"].iloc[0]) == 0
    assert len(ebpm.load("population", area_code=hostile)) == 0
    assert len(ebpm.load("population")) > 0  # the table is still there


@pytest.mark.parametrize(
    "query",
    [
        "DROP TABLE population",
        "SELECT 1; DROP TABLE population",
        "CREATE TABLE x AS SELECT 1",
        "COPY population TO '/tmp/ebpm_leak.csv'",
        "SELECT * FROM read_csv('/etc/passwd')",
    ],
)
def test_only_single_read_only_selects_run(built, query):
    import ebpm

    with pytest.raises(DataAccessError):
        ebpm.sql(query)
    assert not Path("/tmp/ebpm_leak.csv").exists()


def test_identifiers_come_from_the_catalog(built):
    import ebpm

    with pytest.raises(DataAccessError, match="ある列"):
        ebpm.load("population", **{'area_code" = area_code OR "1': "x"})
    with pytest.raises(DataAccessError, match="あるテーブル"):
        ebpm.load('population" WHERE 1=1; --')


# --- T2 path traversal: template and dataset names stay in their folders -------------------------


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "../secrets/key", "/etc/hosts", "a/b", ".hidden"]
)
def test_template_names_cannot_leave_the_templates_folder(name):
    from ebpm.report.runner import template_path

    with pytest.raises(ParameterError):
        template_path(name)


@pytest.mark.parametrize("name", ["../../etc/passwd", "population/../../x", "/tmp/x", ""])
def test_dataset_names_are_a_fixed_list(name):
    from ebpm.publish.standard import find_standard

    with pytest.raises(PublishError, match="選べるもの"):
        find_standard(name)


# --- T3 secrets and staff numbers never reach logs or outputs ------------------------------------


@pytest.mark.slow
def test_secret_parameter_is_not_in_the_run_log_or_report(built, tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    for name in ("secret.ipynb", "secret.params.yml"):
        shutil.copy(REPORT_FIXTURES / name, templates / name)
    env = {
        **os.environ,
        "EBPM_TEMPLATES": str(templates),
        "EBPM_REPORTS": str(tmp_path / "reports"),
    }
    done = subprocess.run(
        [str(BIN / "ebpm"), "run", "secret", "-p", f"api_key={SECRET}", "--no-pdf"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert SECRET not in done.stdout + done.stderr
    written = list((tmp_path / "reports").rglob("*"))
    assert written, done.stderr
    for path in written:
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


# --- T4 XSS: titles and parameters are text in the portal and in reports (browser) --------------


@pytest.fixture(scope="module")
def chromium():
    from ebpm.report import render
    from playwright.sync_api import sync_playwright

    if not Path(render.CHROMIUM).exists():
        pytest.fail(f"{render.CHROMIUM} がありません（make setup が chromium を入れます）")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(render.CHROMIUM), args=render.CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.mark.slow
@pytest.mark.browser
def test_script_in_title_and_parameters_renders_as_text(built, tmp_path, chromium):
    from ebpm.report.portal import write_portal

    templates = tmp_path / "templates"
    templates.mkdir()
    for name in ("basic.ipynb", "basic.params.yml"):
        shutil.copy(REPORT_FIXTURES / name, templates / name)
    reports = tmp_path / "reports"
    env = {**os.environ, "EBPM_TEMPLATES": str(templates), "EBPM_REPORTS": str(reports)}
    done = subprocess.run(
        [str(BIN / "ebpm"), "run", "basic", "-p", f"label={XSS}", "--no-pdf"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (report,) = reports.glob("basic/*/index.html")
    portal = write_portal(reports)
    for page_file in (portal, report):
        context = chromium.new_context(locale="ja-JP")
        page = context.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d, seen=dialogs: (seen.append(d.message), d.dismiss()))
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        assert dialogs == [], f"{page_file.name}: script ran"
        assert "<script>alert(1)</script>" in page.inner_text("body"), page_file
        assert page.locator("script:text('alert(1)')").count() == 0
        context.close()


def test_open_data_catalogue_escapes_titles(tmp_path):
    """published/index.html takes titles from datapackage.json files: they are text, never markup."""
    import json

    from ebpm.publish.catalogue import write_index

    folder = tmp_path / "evacuation_space"
    folder.mkdir()
    (folder / "032018_evacuation_space.csv").write_text("a\r\n1\r\n", encoding="utf-8-sig")
    package = {
        "title": XSS,
        "created": "2026-12-01T00:00:00+09:00",
        "version": "b1",
        "licenses": [{"name": "CC-BY-4.0", "title": "CC BY 4.0", "path": "javascript:alert(3)"}],
        "resources": [{"path": "032018_evacuation_space.csv", "encoding": "utf-8-sig"}],
        "ebpm": {"definition": XSS, "attribution": [XSS]},
    }
    (folder / "datapackage.json").write_text(json.dumps(package), encoding="utf-8")
    html = write_index(tmp_path).read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "javascript:" not in html  # only http(s) licence links are written
