"""The study library: six templates end to end on the whole catalog, planted truths, refusals, disclosure.

Slow: one full `ebpm build` (about a minute) and one render per template, shared with the page tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
TRUTH = ROOT / "data" / "raw" / "synthetic_morioka" / "ground_truth.yml"
NEW_TEMPLATES = [
    "its_study",
    "rdd_study",
    "synth_study",
    "population_profile",
    "survey_analysis",
    "power_plan",
]
SUMMARY_KEYS = {"question", "recommendation", "caveats"}

# one worker builds and renders once for this module, the page tests and the examples (conftest)
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("full_curated")]


def _run(template: str, out: Path, *params: str) -> dict:
    args = [
        str(Path(sys.executable).parent / "ebpm"),
        "run",
        template,
        "--no-pdf",
        "--out",
        str(out),
    ]
    for p in params:
        args += ["-p", p]
    done = subprocess.run(args, capture_output=True, text=True)
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert done.returncode == 0 and result["status"] == "ok", (
        done.stderr[-600:],
        result.get("error"),
    )
    return result


@pytest.fixture(scope="module")
def rendered(default_reports):
    """Every new template rendered once with its defaults (conftest, shared with the page tests)."""
    return {
        t: (
            json.loads((default_reports[t] / "result.json").read_text(encoding="utf-8")),
            default_reports[t],
        )
        for t in NEW_TEMPLATES
    }


@pytest.mark.parametrize("template", NEW_TEMPLATES)
def test_every_template_records_the_summary_contract(rendered, template):
    result, out = rendered[template]
    html = (out / "index.html").read_text(encoding="utf-8")
    assert result["title"] and result["answer"] and result["grade"] in {"A", "B", "C", "D"}
    assert result["headline"] and result["grade_reasons"]
    recorded = set(result["results"]) | {k for k in result if k in SUMMARY_KEYS}
    assert SUMMARY_KEYS <= recorded
    assert result["title"] in html and result["answer"] in html and "<svg" in html
    schema = yaml.safe_load((ROOT / "notebooks/templates" / f"{template}.params.yml").read_text())
    assert {"owner", "policy_area", "contact", "status"} <= set(schema["meta"])


def test_its_study_ci_covers_the_planted_rate_ratio(rendered):
    truth = yaml.safe_load(TRUTH.read_text(encoding="utf-8"))["call_centre"]
    its = rendered["its_study"][0]["results"]["its"]
    lo, hi = its["ci"]
    assert lo <= truth["level_change_ratio"] <= hi  # ground_truth.yml: 0.82
    assert "模擬データ" in rendered["its_study"][0]["answer"]


def test_rdd_study_ci_covers_the_planted_jump(rendered):
    truth = yaml.safe_load(TRUTH.read_text(encoding="utf-8"))["subsidy_application"]
    rdd = rendered["rdd_study"][0]["results"]["rdd"]
    lo, hi = rdd["ci"]
    # the template reports %ポイント (applied × 100); the generator's jump is −0.25 (right − left)
    assert lo <= 100 * truth["jump_right_minus_left"] <= hi
    html = (rendered["rdd_study"][1] / "index.html").read_text(encoding="utf-8")
    assert "すぐ上とすぐ下で対象の数に不自然な偏り" in html  # 密度検定 in the 用語集


def test_rdd_study_adjusts_for_the_chosen_controls_and_says_so(with_curated, tmp_path):
    truth = yaml.safe_load(TRUTH.read_text(encoding="utf-8"))["subsidy_application"]
    result = _run("rdd_study", tmp_path / "r", "controls=children,single_parent")
    rdd = result["results"]["rdd"]
    assert rdd["diagnostics"]["controls"] == ["children", "single_parent"]
    assert rdd["ci"][0] <= 100 * truth["jump_right_minus_left"] <= rdd["ci"][1]
    html = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    assert "子どもの数・ひとり親の違いを調整した" in html


def test_rdd_study_fuzzy_recovers_the_effect_of_receiving_the_benefit(with_curated, tmp_path):
    truth = yaml.safe_load(TRUTH.read_text(encoding="utf-8"))["subsidy_application"]["fuzzy"]
    result = _run("rdd_study", tmp_path / "f", "outcome=childcare_use", "treatment=received")
    rdd = result["results"]["rdd"]
    assert rdd["diagnostics"]["design"] == "fuzzy" and "ファジー" in result["title"]
    # the template reports %ポイント (childcare_use × 100); the generator's effect is 0.20
    assert rdd["ci"][0] <= 100 * truth["effect_of_receiving"] <= rdd["ci"][1]
    assert result["answer"].startswith(
        "所得基準（360万円）で給付の有無が変わる世帯では、給付を受けると"
    )
    assert any("処置（給付）を受ける割合" in r for r in result["grade_reasons"])
    html = (tmp_path / "f" / "index.html").read_text(encoding="utf-8")
    assert "第1段階" in html and "給付を受けた割合" in html
    # the 用語集 explains the design and its first stage to a reader without statistics
    assert "施策を受ける割合の差で割って" in html and "F値が10未満" in html


def test_synth_study_weights_sum_to_one_and_has_a_placebo_pvalue(rendered):
    result = rendered["synth_study"][0]
    weights = result["results"]["donor_weights"]
    assert sum(weights.values()) == pytest.approx(1.0, abs=1e-6)
    assert all(w >= -1e-9 for w in weights.values())
    p = result["results"]["placebo_pvalue"]
    assert 0 < p <= 1
    assert "手法の例示" in result["answer"]  # no real intervention stands behind the default


def test_poor_pre_fit_caps_the_synth_grade_and_says_so(with_curated, tmp_path):
    result = _run("synth_study", tmp_path / "s", "outcome=net_migration_rate")
    assert result["grade"] in {"C", "D"}
    assert "介入前の当てはまりが悪く" in result["answer"]
    assert any("十分に再現できていない" in r for r in result["grade_reasons"])


@pytest.mark.parametrize(
    ("template", "param", "name", "allowed"),
    [
        ("population_profile", "town=存在しない町", "town", "青山一丁目"),
        ("rdd_study", "cutoff=900", "cutoff", "200〜520万円"),
        ("rdd_study", "treatment=received", "treatment", "childcare_use"),
        ("synth_study", "treatment_year=2014", "treatment_year", "2016〜2026"),
        ("its_study", "launch_date=2021-05-01", "launch_date", "2021-09-28"),
        ("survey_analysis", "compare_year=2025", "compare_year", "year"),
    ],
)
def test_bad_parameters_are_refused_before_a_kernel_starts(
    with_curated, template, param, name, allowed, monkeypatch
):
    from ebpm.errors import ParameterError
    from ebpm.report import kernels, runner
    from ebpm.report.params import parse_assignments

    def no_kernel(*a, **k):
        raise AssertionError("a kernel was started for refused parameters")

    monkeypatch.setattr(kernels.Kernel, "__init__", no_kernel)
    with pytest.raises(ParameterError) as err:
        runner.run(template, parse_assignments([param]), pdf=False)
    message = str(err.value)
    assert f"『{name}』" in message and allowed in message


def test_profile_small_cells_show_x_and_totals_do_not_reveal_them(with_curated):
    """A 町字 with age bands under 10 people: the shown pyramid has x cells; the adversary of
    tests/test_disclosure.py (subtraction and linear programming over the published 計 row and
    column) cannot pin any of them."""
    from ebpm.disclosure import protect
    from ebpm.studies import queries
    from ebpm.studies.profile import PYRAMID_SHOW, hidden_bands, pyramid_frame
    from test_disclosure import _attack_lp, _attack_subtraction, _published_margins

    pop = queries.town_population("渋民")
    year = int(pop["year"].max())
    wide = pyramid_frame(pop, year)
    assert ((wide > 0) & (wide < 10)).to_numpy().any()  # the case the check is about
    shown = protect.show(wide, **PYRAMID_SHOW).frame
    inner = shown.drop(index="計").drop(columns="計")
    small = (wide > 0) & (wide < 10)
    assert (inner[small] == "x").to_numpy()[small.to_numpy()].all()
    # the attacker knows every total the report prints (the 計 row and column, where not x)
    values = wide.to_numpy(dtype=float)
    every = _published_margins(values, rows=True, cols=True)
    printed = [shown.iloc[i]["計"] != "x" for i in range(len(wide))]
    printed += [shown.loc["計"].iloc[j] != "x" for j in range(wide.shape[1])]
    lines = [line for line, shown_total in zip(every, printed, strict=True) if shown_total]
    lines.append(
        ([(i, j) for i in range(values.shape[0]) for j in range(values.shape[1])], values.sum())
    )
    assert not _attack_subtraction(inner, lines)
    for lo, hi in _attack_lp(inner, lines).values():
        assert hi - lo > 0.5
    # the ageing shares printed next to the table do not add margins over hidden bands
    from ebpm.methods import demography

    hidden = hidden_bands(shown, wide.attrs["age_from"])
    ind = demography.ageing_indicators(pop[pop["year"] == year], threshold=10, hidden_ages=hidden)
    if any(a >= 65 for a in hidden):
        assert ind["share_65_over"] != ind["share_65_over"]  # NaN: not published


@pytest.mark.browser
def test_every_new_report_opens_offline_with_title_answer_grade_and_chart(rendered, tmp_path):
    """Headless Chromium opens each report from file:// with no outside request (test_browser.py setup)."""
    import playwright.sync_api as sync_api  # a dependency: missing means broken, never a skip
    from ebpm.report import render

    allowed = ("file://", "data:", "about:")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(render.CHROMIUM), args=render.CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
        requests: list[str] = []
        context.on("request", lambda request: requests.append(request.url))
        page = context.new_page()
        for template, (result, out) in rendered.items():
            page.goto((out / "index.html").as_uri())
            page.wait_for_load_state("load")
            assert result["title"] in page.locator("h1").first.inner_text(), template
            body = page.inner_text("body")
            assert result["answer"][:40] in body, template
            assert "根拠の確かさ" in body, template
            assert result["grade"] is None or result["grade"] in body, template
            chart = page.locator("svg, img[src^='data:image/svg']").first
            assert chart.is_visible(), template
            if template == "synth_study":
                assert "プラセボの差" in page.content()  # the gap chart with the placebo lines
        context.close()
        browser.close()
    outside = [url for url in requests if not url.startswith(allowed)]
    assert requests and outside == [], outside
