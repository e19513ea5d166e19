"""Browser test: the 事例 page filters to DiD cases and opens one; the logic-model diagram renders offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from ebpm.report import render
from ebpm.report.cycle_pages import write_cycle_pages

pytestmark = pytest.mark.browser

ALLOWED_PREFIXES = ("file://", "data:", "about:")


@pytest.fixture(scope="module")
def browser():
    import playwright.sync_api as sync_api  # a dependency: missing means broken, never a skip

    if not Path(render.CHROMIUM).exists():
        pytest.fail("/usr/bin/chromium がありません（make setup が chromium を入れます）")
    with sync_api.sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=str(render.CHROMIUM), args=render.CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture()
def site(tmp_path, monkeypatch):
    monkeypatch.setenv(
        "EBPM_STUDIES", str(tmp_path / "studies")
    )  # no own studies: documented cases only
    root = tmp_path / "reports"
    write_cycle_pages(root)
    return root


def _page(browser, url: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.goto(url)
    return page, requests


def test_cases_page_filters_to_did_and_opens_one(browser, site):
    page, requests = _page(browser, (site / "cases.html").as_uri())
    assert page.get_by_role("heading", level=1).inner_text() == "事例"
    rows = page.locator("#cases tbody tr.case")
    assert rows.count() == 30
    page.select_option("#f-design", "did")
    visible = page.locator("#cases tbody tr.case:visible")
    assert visible.count() == 4
    assert "4件を表示" in page.inner_text("#shown")
    assert all("差の差分析" in t for t in visible.locator("td:nth-child(3)").all_inner_texts())
    page.select_option("#f-direction", "効果なし")
    assert page.locator("#cases tbody tr.case:visible").count() == 2
    page.select_option("#f-direction", "")
    first = page.locator("#cases tbody tr.case:visible").first
    first.locator("summary").click()
    body = first.locator(".case-body")
    assert body.is_visible()
    text = body.inner_text()
    assert "出典と確認の方法" in text and "読んだ内容" in text
    page.fill("#q", "熊本")
    assert page.locator("#cases tbody tr.case:visible").count() == 1
    outside = [u for u in requests if not u.startswith(ALLOWED_PREFIXES)]
    assert requests and outside == [], outside


def test_logic_model_diagram_renders_offline(browser, site):
    page, requests = _page(browser, (site / "logic.html").as_uri())
    diagram = page.locator("#logic-dx_plan svg.logic-model")
    assert diagram.is_visible()
    box = diagram.bounding_box()
    assert box and box["width"] > 600 and box["height"] > 300
    # the boxes are drawn left to right by stage, and the KPI boxes carry their status colour
    heads = diagram.locator("text.stage-head")
    xs = [heads.nth(i).bounding_box()["x"] for i in range(heads.count())]
    assert heads.count() == 7 and xs == sorted(xs)
    o1 = diagram.locator("#node-O1 rect.indicator")
    assert o1.get_attribute("class").startswith("indicator status-")
    assert o1.bounding_box()["width"] > 100
    # Japanese text is laid out with a CJK font (non-zero width glyphs)
    label = diagram.locator("#node-O1 text").nth(1)
    assert label.bounding_box()["width"] > 50
    outside = [u for u in requests if not u.startswith(ALLOWED_PREFIXES)]
    assert requests and outside == [], outside
