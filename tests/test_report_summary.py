"""The one-page summary: grade scale and legend, method range, monitoring box, meta, dates."""

import datetime as dt

import pytest
from ebpm.errors import ParameterError
from ebpm.report import summary as s
from ebpm.report.params import load_schema
from ebpm.report.terms import flatten_brackets, plain_text


def _head(est=-4.2, grade="C", reasons=None, **diag):
    return {
        "method": "did",
        "method_ja": "差の差分析",
        "estimate": est,
        "ci": [est - 1, est + 1],
        "unit": "分",
        "grade": grade,
        "reasons": reasons or [],
        "diagnostics": diag,
    }


def test_method_range_spans_headline_supporting_and_twfe():
    results = {"did": _head(-4.197, twfe_estimate=-3.48), "es": _head(-3.59, grade="B")}
    rng = s.method_range(results, "did")
    assert rng == {"low": 3.48, "high": 4.197, "unit": "分", "n_methods": 3}
    assert s.range_text(rng, less="短縮") == "計算方法により3.5〜4.2分の短縮"
    assert s.method_range({"did": _head()}, "did") is None


def test_causal_box_has_meaning_reasons_and_how_to_raise():
    reasons = [
        "差の差分析で確かめられる。",
        "【要注意】クラスター（office）が15個と少なく（30個未満）、標準誤差がやや過小になりうる。",
    ]
    box = s.evidence_box({"kind": "causal", "grade": "C", "reasons": reasons}, synthetic=True)
    assert box["kind"] == "causal" and box["grade"] == "C" and box["label"] == "C（限定的）"
    assert box["meaning"] == s.GRADE_SCALE["C"][1]
    assert box["raise_to"] == "B"
    assert box["raise"][0] == "実データで再検証する"
    assert any("対象の数を増やす" in r for r in box["raise"])
    assert "office" not in box["reasons"][1]


def test_monitoring_box_has_no_grade():
    from ebpm.methods.grading import monitoring

    box = s.evidence_box(monitoring(["見通しは参考値である。"]), synthetic=True)
    assert box["kind"] == "monitoring" and box["grade"] is None
    assert box["label"] == "実績集計（推定なし）"
    assert box["reasons"][-1] == "見通しは参考値である。"
    assert not any("エビデンスの強さ" in r for r in box["reasons"])  # one word: 根拠の確かさ
    assert s.evidence_box(None, synthetic=False)["kind"] is None


def test_summary_says_when_costs_were_not_given():
    rec = {"results": {"did": _head()}, "headline": "did", "question": "問い", "caveats": "一つ"}
    out = s.build_summary(
        rec,
        meta={},
        synthetic=False,
        created=dt.datetime(2026, 12, 3, 1, 0, tzinfo=s.JST),
        vintage="2026-03-31",
    )
    assert out["cost_text"].startswith("費用は条件として与えられていない")
    assert out["caveats"] == ["一つ"]
    assert out["date"] == "令和8年12月3日（2026年12月3日）"
    assert out["vintage"] == "令和8年3月31日（2026年3月31日）"


def test_meta_is_checked():
    assert s.check_meta(None) == {}
    with pytest.raises(ParameterError, match="status"):
        s.check_meta({"owner": "a", "policy_area": "b", "contact": "c", "status": "完成"})
    with pytest.raises(ParameterError, match="contact"):
        s.check_meta({"owner": "a", "policy_area": "b", "status": "確定"})
    with pytest.raises(ParameterError, match="meta"):
        s.check_meta(None, required=True)


def test_every_shipped_template_has_complete_meta():
    from ebpm.config import paths

    notebooks = sorted(paths().templates.glob("*.ipynb"))
    assert notebooks
    for nb in notebooks:
        import yaml

        raw = yaml.safe_load(nb.with_suffix(".params.yml").read_text(encoding="utf-8"))
        meta = s.check_meta(raw.get("meta"), file=nb.name, required=True)
        assert load_schema(nb).meta == meta


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a（b（c）d）e", "a（b、c、d）e"),
        ("F検定（Hotelling 補正） p=0.56）", "F検定（Hotelling 補正） p=0.56）"),
        ("（F検定（Hotelling 補正） p=0.56）", "（F検定、Hotelling 補正、p=0.56）"),
        ("（一つ）と（二つ）", "（一つ）と（二つ）"),
        ("F検定（Hotelling 補正） p=0.56", "F検定（Hotelling 補正） p=0.56"),
    ],
)
def test_flatten_brackets(text, expected):
    assert flatten_brackets(text) == expected


def test_plain_text_drops_raw_names_and_refused_forms():
    text = plain_text("クラスター頑健（office、G=15、影響関数による）。エビデンスの強さはC")
    assert "office" in text  # only a bare name in brackets is dropped
    assert "G=15" not in text and "根拠の確かさ" in text
    assert plain_text("クラスター（office）が15個") == "クラスターが15個"
