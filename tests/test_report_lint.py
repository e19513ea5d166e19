"""The report language lint: each banned form is found, clean prose passes."""

import pytest
from ebpm.report.lint import lint_html, visible_text


def _rules(html, **kw):
    return {f.rule for f in lint_html(html, **kw)}


@pytest.mark.parametrize(
    "html, rule",
    [
        ("<p>比較群（窓口（本庁）を除く）である。</p>", "nested_brackets"),
        ("<p>`ebpm run` で作成した。</p>", "backtick"),
        ("<p>効果は大きいです。</p>", "desu_masu"),
        ("<p>結果を示します。</p>", "desu_masu"),
        ("<p>mean_wait_min の平均である。</p>", "snake_case"),
        ("<p>2024年 March の値である。</p>", "month_en"),
        ("<svg><text>Jan 2024</text></svg>", "month_en"),
        ("<p>p値は 6.5e-14 である。</p>", "exponent"),
        ("<p>待ち時間は -4.2分減った。</p>", "minus_prose"),
        ("<p>エビデンスの強さはCである。</p>", "vocabulary"),
    ],
)
def test_each_banned_form_is_found(html, rule):
    assert rule in _rules(html)


def test_raw_column_names_given_by_the_catalog():
    assert "column" in _rules("<p>office ごとの平均である。</p>", columns={"office"})
    assert not _rules("<p>窓口ごとの平均である。</p>", columns={"office"})


@pytest.mark.parametrize(
    "html",
    [
        "<p>待ち時間は約4.2分短くなった。95%信頼区間は3.1〜5.3分の短縮である。</p>",
        "<p>令和7年度（2025年度）の実績である。</p>",
        "<p>データ構築 ID 20261203-014941-21e8b7 である。</p>",
        "<p>ID 20261203-023959-28e1 出典</p>",  # a run id whose hex part looks like 28×10¹
        "<svg><text>-4</text></svg><p>下ほど短い。</p>",  # axes may show negative values
        "<style>.a{color:red}</style><p>1,200件である。</p>",
    ],
)
def test_clean_text_passes(html):
    assert lint_html(html) == []


def test_visible_text_separates_charts_and_skips_styles():
    prose, chart = visible_text("<style>x</style><p>本文</p><svg><text>軸</text></svg>")
    assert "本文" in prose and "x" not in prose and chart.strip() == "軸"


@pytest.mark.parametrize(
    "cell, nowrap",
    [
        ("<td>1,121人</td>", True),
        ("<td>77.5%</td>", True),
        ("<td>20業務</td>", True),
        ('<td style="text-align:right">13.5</td>', True),
        ("<td>オンライン化が可能な手続のうち20手続が未実施である。</td>", False),
        ("<td>未達成</td>", True),
        ("<td>総合支所の窓口</td>", False),
    ],
)
def test_numbers_do_not_wrap_in_tables(cell, nowrap):
    from ebpm.report.render import nowrap_numbers

    assert ("white-space:nowrap" in nowrap_numbers(cell)) is nowrap
