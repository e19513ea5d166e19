"""Browser test: the portal and one report open offline in headless Chromium, with no outside request."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from ebpm import config
from ebpm.report import portal, render

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).parent / "fixtures" / "portal" / "reports"
CHROMIUM = Path(render.CHROMIUM)
CHROMIUM_ARGS = render.CHROMIUM_ARGS
ALLOWED_PREFIXES = ("file://", "data:", "about:", "http://127.0.0.1", "https://127.0.0.1")


def _real_report() -> Path | None:
    """The newest successful report written by `ebpm run`, if the project has one."""
    root = config.paths().reports
    best = None
    for result_path in root.glob("*/*/result.json"):
        try:
            result = json.loads(result_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if result.get("status") == "ok" and (result_path.parent / "index.html").is_file():
            key = str(result.get("created_at") or "")
            if best is None or key > best[0]:
                best = (key, result_path.parent)
    return best[1] if best else None


@pytest.fixture()
def site(tmp_path: Path, monkeypatch) -> tuple[Path, str | None]:
    """A reports folder: the fixtures plus, when present, one real report (copied, never moved)."""
    real = _real_report()
    root = tmp_path / "reports"
    shutil.copytree(FIXTURES, root)
    real_title = None
    if real is not None:
        target = root / real.parent.name / real.name
        shutil.copytree(real, target, dirs_exist_ok=True)
        real_title = json.loads((target / "result.json").read_text(encoding="utf-8")).get("title")
    monkeypatch.setenv("EBPM_CURATED", str(tmp_path / "data" / "curated"))
    portal.write_portal(root)
    return root, real_title


@pytest.fixture(scope="module")
def browser():
    import playwright.sync_api as sync_api  # a dependency: missing means broken, never a skip

    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium がありません（make setup が chromium を入れます）")
    with sync_api.sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _save(page, tmp_path: Path, name: str) -> Path:
    shot = tmp_path / name
    page.screenshot(path=str(shot), full_page=True)
    keep = config.paths().reports / "screenshots"
    if keep.is_dir():
        shutil.copy(shot, keep / name)
    return shot


def _visible_rows(page) -> int:
    return page.locator("#reports tbody tr.report:visible").count()


def test_portal_and_report_open_offline(browser, site, tmp_path: Path):
    root, real_title = site
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.goto((root / "index.html").as_uri())

    # Japanese title and the grade chart are visible
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "レポート一覧"
    assert page.locator(".chart svg").first.is_visible()
    total = page.locator("#reports tbody tr.report").count()
    assert total == 4 + (1 if real_title else 0)
    assert _visible_rows(page) == total
    _save(page, tmp_path, "portal.png")

    # search filters rows (full-width input is normalised: ＤＸ matches DX)
    page.fill("#q", "ごみ収集")
    assert _visible_rows(page) == 1
    assert "1件を表示" in page.inner_text("#shown")
    page.fill("#q", "ＤＸ推進計画")
    assert _visible_rows(page) == 1
    page.fill("#q", "該当しない語句")
    assert _visible_rows(page) == 0
    page.fill("#q", "")
    assert _visible_rows(page) == total

    # filters: 失敗 only, then 実データ only
    page.select_option("#f-status", "failed")
    assert _visible_rows(page) == 1
    page.select_option("#f-status", "")
    page.select_option("#f-grade", "D")
    assert _visible_rows(page) == 1
    page.select_option("#f-grade", "")
    # 担当課 and 年度 filters: only that department's / year's reports stay
    page.select_option("#f-owner", "市民部 市民登録課")
    owners = page.locator("#reports tbody tr.report:visible").evaluate_all(
        "rs => rs.map(r => r.dataset.owner)"
    )
    assert owners and set(owners) == {"市民部 市民登録課"}
    page.select_option("#f-owner", "")
    page.select_option("#f-fy", "2024")
    years = page.locator("#reports tbody tr.report:visible").evaluate_all(
        "rs => rs.map(r => r.dataset.fy)"
    )
    assert years and set(years) == {"2024"}
    page.select_option("#f-fy", "")

    # sorting by date: oldest first after one click
    page.click("#sort-date")
    first = page.locator("#reports tbody tr.report").first.get_attribute("data-date")
    dates = [
        d
        for d in page.locator("#reports tbody tr.report").evaluate_all(
            "rs => rs.map(r => r.dataset.date)"
        )
    ]
    assert first == min(dates)
    page.click("#sort-date")

    # open one report from the portal: the real one when `ebpm run` has written one
    title = real_title or "支所窓口キャッシュレス決済導入の待ち時間への効果"
    row = page.locator("#reports tbody tr.report", has_text=title).first
    row.get_by_role("link", name="レポートを開く").click()
    page.wait_for_load_state("load")
    assert title in page.locator("h1").first.inner_text()
    chart = page.locator("svg, img[src^='data:image/svg'], img[src^='data:image/png']").first
    assert chart.is_visible()
    _save(page, tmp_path, "report.png")
    context.close()

    outside = [url for url in requests if not url.startswith(ALLOWED_PREFIXES)]
    assert requests, "no request was recorded at all"
    assert outside == [], f"requests left the machine: {outside}"
