"""Browser test: a session handout and the learning-gain report open offline with titles and charts."""

from __future__ import annotations

from pathlib import Path

import pytest
from ebpm.report import render
from ebpm.training.gain_report import course_report
from ebpm.training.materials import build_materials

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path(render.CHROMIUM)
ALLOWED_PREFIXES = ("file://", "data:", "about:")


@pytest.fixture(scope="module")
def browser():
    import playwright.sync_api as sync_api  # a dependency: missing means broken, never a skip

    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium がありません（make setup が chromium を入れます）")
    with sync_api.sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=str(CHROMIUM), args=render.CHROMIUM_ARGS)
        yield instance
        instance.close()


def _answers(folder: Path) -> Path:
    """Four made-up participants (模擬の回答): wrong → right on most items between the two tests."""
    folder.mkdir()
    pre = {
        "P01": "A",
        "P02": "B",
        "P03": "3",
        "P04": "B",
        "P05": "80",
        "P06": "B",
        "P07": "A",
        "P08": "B",
    }
    post = {
        "P01": "B",
        "P02": "B",
        "P03": "-2",
        "P04": "A",
        "P05": "20",
        "P06": "B",
        "P07": "B",
        "P08": "B",
    }
    for i, person in enumerate(("R01", "R02", "R03", "R04")):
        lines = ["試験,設問,回答"]
        for item in pre:
            lines.append(
                f"事前,{item},{pre[item] if i % 2 else post[item] if item == 'P01' else pre[item]}"
            )
            lines.append(f"事後,{item},{post[item] if i != 3 or item != 'P04' else 'C'}")
        (folder / f"{person}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def _open(browser, path: Path):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="ja-JP")
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    page = context.new_page()
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return context, page, requests


def test_handout_and_learning_gain_report_open_offline(
    with_curated, browser, tmp_path, monkeypatch
):
    monkeypatch.setenv("EBPM_REPORTS", str(tmp_path / "reports"))
    built = build_materials(tmp_path / "build", lessons=["p1"], pdf=False)
    assert built["errors"] == {}
    handout = tmp_path / "build" / "handouts" / "p1_student.html"
    context, page, requests = _open(browser, handout)
    assert "JupyterLab と pandas" in page.locator("h1").first.inner_text()
    assert page.title().startswith("実務者向け P1")
    chart = page.locator(".block-figure svg").first
    assert chart.is_visible() and chart.bounding_box()["width"] > 200
    assert "模擬データ" in page.inner_text("body")
    assert "nunique" not in page.inner_text("body")  # no solution in the participant's handout
    context.close()
    assert [u for u in requests if not u.startswith(ALLOWED_PREFIXES)] == []

    result = course_report(
        _answers(tmp_path / "answers"), track="practitioner", pdf=False, synthetic=True
    )
    overall = result["results"]["overall"]
    assert overall["n"] == 4 and result["headline"] == "overall" and result["synthetic"] is True
    assert overall["ci"][0] <= overall["estimate"] <= overall["ci"][1]
    report = Path(result["path"]) / "index.html"
    context, page, requests = _open(browser, report)
    assert page.locator("h1").first.inner_text() == "EBPM研修の学習効果（実務者向け）"
    assert page.locator("svg").count() >= 2 and page.locator("svg").first.is_visible()
    assert "95%信頼区間" in page.inner_text("body") and "模擬データ" in page.inner_text("body")
    context.close()
    assert [u for u in requests if not u.startswith(ALLOWED_PREFIXES)] == []

    portal = tmp_path / "reports" / "index.html"
    context, page, _ = _open(browser, portal)
    assert "EBPM研修の学習効果（実務者向け）" in page.inner_text("body")
    context.close()
