"""Running fixture templates on a real kernel: date injection, SVG charts, secrets, failures, batch."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from ebpm.report.runner import run

# the module fixture (the six fixture runs) is made once, on one worker, not once per xdist worker
pytestmark = pytest.mark.xdist_group("reports_run")

FIXTURES = Path(__file__).parent / "fixtures" / "reports"
SECRET = "SECRET-7f3a9c"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Run each fixture once with reports and the register in a temp folder; only the secret one
    prints a PDF (one run checked by the no-secret and the PDF tests; make setup installs Chromium,
    and without it this run fails and so do both tests)."""
    root = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EBPM_REPORTS", str(root))
        out = {
            "basic": run(
                str(FIXTURES / "basic.ipynb"),
                {"n": "4", "start": "2024-05-01", "offices": "都南,渋民"},
                out=root / "basic",
                pdf=False,
            ),
            "secret": run(
                str(FIXTURES / "secret.ipynb"), {"api_key": SECRET}, out=root / "secret", pdf=True
            ),
            "failing": run(
                str(FIXTURES / "failing.ipynb"), {"token": SECRET}, out=root / "failing", pdf=False
            ),
            "raw_table": run(str(FIXTURES / "raw_table.ipynb"), {}, out=root / "raw", pdf=False),
            "typed_bypass": run(
                str(FIXTURES / "typed_grade.ipynb"), {}, out=root / "typed1", pdf=False
            ),
            "typed_record": run(
                str(FIXTURES / "typed_grade.ipynb"),
                {"mode": "record"},
                out=root / "typed2",
                pdf=False,
            ),
        }
    return out


def _result(outcome) -> dict:
    return json.loads((Path(outcome.out_dir) / "result.json").read_text(encoding="utf-8"))


def test_dates_arrive_as_dates(runs):
    res = _result(runs["basic"])
    assert res["status"] == "ok"
    assert res["results"]["start_type"] == "date"
    assert res["results"]["start"] == "2024-05-01"
    assert res["parameters"]["offices"] == ["都南", "渋民"]


def test_result_json_follows_the_contract(runs):
    res = _result(runs["basic"])
    for key in (
        "template", "title", "run_id", "created_at", "status", "answer", "grade", "grade_reasons",
        "parameters", "results", "headline", "build", "vintage", "sources", "synthetic",
        "code_version", "duration_s", "error", "files",
    ):  # fmt: skip
        assert key in res, key
    assert res["title"] == "動作確認（本庁）" and res["answer"] == "件数は4件です。"
    from ebpm.report.prereg import NO_PLAN_REASON

    # a monitoring report: the grading rule gives no causal letter, and the label says so
    assert res["grade"] is None and res["grade_label"] == "実績集計（推定なし）"
    # the rule's reasons, then whether the run followed a locked plan (here: 事前登録なし)
    assert res["grade_reasons"][-2:] == ["動作確認用の固定値です。", NO_PLAN_REASON]
    assert res["preregistration"]["label"] == "事前登録なし"
    assert res["evidence_kind"] == "monitoring"
    assert res["question"] == "件数はいくつか。" and res["meta"] == {}
    assert res["files"] == {"html": "index.html", "notebook": "notebook.ipynb", "pdf": None}


def test_html_has_no_code_no_cdn_and_an_svg_chart(runs):
    html = (Path(runs["basic"].out_dir) / "index.html").read_text(encoding="utf-8")
    assert "<svg" in html and "動作確認の図" in html
    assert "ebpm.record" not in html and "import altair" not in html
    assert "vegalite" not in html and "<script" not in html
    import re

    refs = re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]+)""", html)
    assert not [r for r in refs if "//" in r], refs
    assert "盛岡市 EBPM" in html and "来歴と出典" in html and "根拠の確かさの凡例" in html


def test_executed_notebook_keeps_outputs_but_no_vegalite(runs):
    nb = json.loads((Path(runs["basic"].out_dir) / "notebook.ipynb").read_text(encoding="utf-8"))
    mimes = {m for c in nb["cells"] for o in c.get("outputs", []) for m in o.get("data", {})}
    assert "image/svg+xml" in mimes
    assert not [m for m in mimes if "vegalite" in m or "javascript" in m]


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_monitoring_label_in_html(runs):
    html = (Path(runs["basic"].out_dir) / "index.html").read_text(encoding="utf-8")
    assert "<h2>根拠の確かさ</h2>" in html and "<strong>実績集計（推定なし）</strong>" in html
    assert "エビデンスの強さ" not in html  # one word for the grade: 根拠の確かさ


@pytest.mark.parametrize(
    ("case", "step"), [("typed_bypass", "根拠の確かさの確認"), ("typed_record", "強さの記録")]
)
def test_a_typed_grade_fails_the_run(runs, case, step):
    """A letter that is not the grading rule's output never reaches a report."""
    outcome = runs[case]
    res = _result(outcome)
    assert outcome.status == "failed" and res["status"] == "failed"
    assert res["error"]["step"] == step
    assert "評価規則" in res["error"]["message"] and "受け付けません" in res["error"]["message"]
    assert res["grade"] is None and res["grade_reasons"] == []


def _forms(secret: str) -> list[str]:
    import base64
    import urllib.parse

    return [
        secret.upper(),
        secret.lower(),
        urllib.parse.quote(secret, safe=""),
        base64.b64encode(secret.encode()).decode(),
        base64.b64encode(f"user:{secret}".encode()).decode()[8:-4],  # the part that is the secret
    ]


def test_secret_appears_in_no_output(runs):
    folder = Path(runs["secret"].out_dir)
    assert sorted(p.name for p in folder.iterdir()) == [
        "index.html",
        "notebook.ipynb",
        "report.pdf",
        "result.json",
    ]
    blob = _all_bytes(folder)  # the PDF too (its text is checked in test_pdf_is_a4_…)
    assert SECRET.encode() not in blob
    for form in _forms(SECRET):  # upper/lower case, URL-encoded, base64 (alone and inside a text)
        assert form.encode() not in blob, form
    assert b"***" in blob  # the value was there and got masked
    nb = json.loads((folder / "notebook.ipynb").read_text(encoding="utf-8"))
    assert nb["metadata"]["papermill"]["parameters"]["api_key"] == "***"
    res = _result(runs["secret"])
    assert "api_key" not in res["parameters"] and res["parameters"]["year"] == 2024


def test_failure_report_says_which_step_and_why(runs):
    outcome = runs["failing"]
    assert outcome.status == "failed"
    res = _result(outcome)
    assert res["status"] == "failed"
    assert res["error"] == {
        "step": "待ち時間の集計",
        "message": "ValueError: 集計できません（token=***）",
    }
    html = (Path(outcome.out_dir) / "index.html").read_text(encoding="utf-8")
    assert "分析が途中で止まった" in html and "待ち時間の集計" in html
    assert html.index("分析が途中で止まった") < html.index("条件（パラメータ）")
    assert "ここは実行されない" not in html
    assert SECRET.encode() not in _all_bytes(Path(outcome.out_dir))


def test_table_that_skipped_disclosure_control_fails_the_run(runs):
    outcome = runs["raw_table"]
    res = _result(outcome)
    assert res["status"] == "failed" and res["error"]["step"] == "秘匿処理の確認"
    assert res["results"] == {} and res["answer"] is None
    html = (Path(outcome.out_dir) / "index.html").read_text(encoding="utf-8")
    assert "町1" not in html and "表示されてはならない" not in html
    nb = json.loads((Path(outcome.out_dir) / "notebook.ipynb").read_text(encoding="utf-8"))
    assert all(not c.get("outputs") for c in nb["cells"])


def test_cli_exits_non_zero_on_failure_and_refuses_bad_parameters(tmp_path, monkeypatch):
    from ebpm.cli import app
    from typer.testing import CliRunner

    monkeypatch.setenv("EBPM_REPORTS", str(tmp_path))
    bad = CliRunner().invoke(app, ["run", str(FIXTURES / "basic.ipynb"), "-p", "n=abc"])
    assert bad.exit_code != 0 and "整数で指定してください" in str(bad.exception)
    failed = CliRunner().invoke(
        app, ["run", str(FIXTURES / "failing.ipynb"), "--no-pdf", "--out", str(tmp_path / "f")]
    )
    assert failed.exit_code == 1
    assert json.loads((tmp_path / "f" / "result.json").read_text())["status"] == "failed"


@pytest.mark.browser
def test_pdf_is_a4_and_carries_no_secret(runs):
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext（poppler-utils）がありません（make setup が入れます）")
    outcome = runs["secret"]  # the module's run of secret.ipynb with api_key=SECRET, with its PDF
    folder = Path(outcome.out_dir)
    pdf = folder / "report.pdf"
    assert outcome.status == "ok" and pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "秘密の確認" in text and "年は2024" in text
    assert SECRET not in text and SECRET.encode() not in _all_bytes(folder)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert "pts (A4)" in info  # pdfinfo names the paper size
    # the house font is embedded as a TrueType subset (Noto CJK would become Type 3 glyph drawings)
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert re.search(r"BIZUDPGothic-Regular\s+CID TrueType\s+Identity-H\s+yes yes yes", fonts), (
        fonts
    )


def test_render_an_executed_notebook_again(runs, tmp_path):
    from ebpm.report.runner import render_notebook

    ok = render_notebook(
        Path(runs["basic"].out_dir) / "notebook.ipynb", out=tmp_path / "r1", pdf=False
    )
    assert ok.status == "ok" and "<svg" in (tmp_path / "r1" / "index.html").read_text(
        encoding="utf-8"
    )
    failed = render_notebook(
        Path(runs["failing"].out_dir) / "notebook.ipynb", out=tmp_path / "r2", pdf=False
    )
    assert failed.status == "failed" and failed.error["step"] == "待ち時間の集計"
    assert SECRET.encode() not in _all_bytes(tmp_path / "r2")
