"""Scrubbing and offline rendering helpers (pure functions, no kernel)."""

from __future__ import annotations

import datetime as dt

import nbformat
import pytest
from ebpm.report.render import format_value, notebook_blocks, offline_html
from ebpm.report.runner import find_failure, read_records
from ebpm.report.scrub import clean_outputs, mask_text, scrub_notebook, secret_strings

SECRET = "SECRET-7f3a9c"


@pytest.mark.parametrize(
    ("fragment", "kept", "gone"),
    [
        ('<img src="https://cdn.example.org/x.png">', "<img", "cdn.example.org"),
        ('<a href="http://example.org/">x</a>', ">x</a>", "example.org"),
        ('<link rel="stylesheet" href="//fonts.example/x.css">', "", "fonts.example"),
        (
            '<script src="https://cdn.jsdelivr.net/npm/vega@5"></script><p>ok</p>',
            "<p>ok</p>",
            "jsdelivr",
        ),
        ('<svg><image xlink:href="https://x.example/a.png"/></svg>', "<svg>", "x.example"),
        ('<img src="data:image/png;base64,AAAA">', "data:image/png", "http"),
        ("<table><tr><td>12</td></tr></table>", "<td>12</td>", "http"),
    ],
)
def test_offline_html_removes_other_hosts(fragment, kept, gone):
    out = offline_html(fragment)
    assert kept in out and gone not in out


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (True, "はい"),
        (False, "いいえ"),
        (dt.date(2025, 4, 1), "2025年4月1日"),
        (["本庁", "玉山"], "本庁、玉山"),
        ([], "（なし）"),
        ("", "（指定なし）"),
        (2024, "2024"),
    ],
)
def test_format_value(value, text):
    assert format_value(value) == text


def test_secret_strings_cover_repr_json_and_html_forms():
    forms = secret_strings({"k": 'a<b"c', "n": 1}, ["k"])
    assert (
        'a<b"c' in forms and "'a<b\"c'" in forms and 'a<b\\"c' in forms and "a&lt;b&quot;c" in forms
    )
    assert secret_strings({"k": ""}, ["k"]) == []


def test_mask_text_replaces_every_occurrence():
    assert mask_text(f"x {SECRET} y {SECRET}", [SECRET]) == "x *** y ***"


def _executed_notebook():
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("api_key = ''")
    params.metadata["tags"] = ["parameters"]
    injected = nbformat.v4.new_code_cell(f"api_key = {SECRET!r}")
    injected.metadata["tags"] = ["injected-parameters"]
    work = nbformat.v4.new_code_cell("print(api_key)")
    work.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=f"{SECRET}\n"),
        nbformat.v4.new_output(
            "display_data",
            data={
                "application/vnd.vegalite.v5+json": {"a": 1},
                "application/javascript": "x()",
                "text/html": f"<p>{SECRET}</p>",
                "text/plain": "chart",
            },
        ),
        nbformat.v4.new_output(
            "error",
            ename="ValueError",
            evalue=f"bad {SECRET}",
            traceback=[f"\x1b[31mValueError\x1b[0m: bad {SECRET}"],
        ),
    ]
    heading = nbformat.v4.new_markdown_cell("## 待ち時間の集計")
    nb.cells = [params, injected, heading, work]
    nb.metadata["papermill"] = {"parameters": {"api_key": SECRET}}
    return nb


def test_scrub_notebook_masks_cells_metadata_outputs_and_tracebacks():
    nb = scrub_notebook(_executed_notebook(), {"api_key": SECRET}, ["api_key"])
    text = nbformat.writes(nb)
    assert SECRET not in text
    assert nb.metadata["papermill"]["parameters"] == {"api_key": "***"}
    assert "api_key = '***'" in nb.cells[1].source
    data = nb.cells[3].outputs[1]["data"]
    assert set(data) == {"text/html"}  # no CDN bundle; no plain repr beside a rich one
    assert "\x1b[" not in "".join(nb.cells[3].outputs[2]["traceback"])


def test_clean_outputs_drops_cdn_only_outputs():
    cell = nbformat.v4.new_code_cell("chart")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={"application/vnd.vegalite.v5+json": {}, "text/html": "<script>x</script>"},
        )
    ]
    clean_outputs(cell)
    assert cell.outputs == []


def test_failure_names_the_heading_above_the_failed_cell():
    nb = _executed_notebook()
    assert find_failure(nb) == {"step": "待ち時間の集計", "message": f"ValueError: bad {SECRET}"}
    nb.cells[2] = nbformat.v4.new_code_cell("x = 1")
    assert find_failure(nb)["step"] == "セル3"  # the injected cell is not counted


def test_blocks_show_outputs_but_never_code_or_parameters():
    nb = scrub_notebook(_executed_notebook(), {"api_key": SECRET}, ["api_key"])
    html = "".join(b["html"] for b in notebook_blocks(nb))
    assert "api_key" not in html and "print(" not in html
    assert "待ち時間の集計" in html and "<p>***</p>" in html
    assert "ValueError" not in html  # the failure is shown once, at the top of the report


def test_read_records_folds_the_sidecar(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(
        "\n".join(
            [
                '{"name": "title", "value": "題"}',
                '{"name": "did", "value": {"grade": "B"}, "result": true, "headline": false}',
                '{"name": "headline", "ref": "did"}',
                '{"name": "_tables", "value": ["counter_visit"]}',
                '{"name": "_tables", "value": ["counter_visit", "procedure"]}',
            ]
        ),
        encoding="utf-8",
    )
    rec = read_records(path)
    assert rec["title"] == "題" and rec["headline"] == "did"
    assert rec["results"] == {"did": {"grade": "B"}}
    assert rec["tables"] == ["counter_visit", "procedure"]


def _forms_of(secret: str) -> dict[str, str]:
    import base64
    import urllib.parse

    return {
        "upper": secret.upper(),
        "lower": secret.lower(),
        "mixed": secret.swapcase(),
        "url": urllib.parse.quote(secret, safe=""),
        "url_lower_hex": urllib.parse.quote(secret, safe="").lower(),
        "url_plus": urllib.parse.quote_plus(secret),
        "base64": base64.b64encode(secret.encode()).decode(),
        "base64_unpadded": base64.b64encode(secret.encode()).decode().rstrip("="),
        "base64_urlsafe": base64.urlsafe_b64encode(secret.encode()).decode(),
        "basic_auth": base64.b64encode(f"user:{secret}".encode()).decode(),
        "base64_offset_2": base64.b64encode(f"ab{secret}".encode()).decode(),
    }


@pytest.mark.parametrize("form", list(_forms_of("x")))
@pytest.mark.parametrize("secret", [SECRET, "p@ss word/+=&?", "鍵ひみつ-42"])
def test_mask_text_catches_transformed_secrets(secret, form):
    """Each common transformation of a secret is masked wherever it sits in an output."""
    encoded = _forms_of(secret)[form]
    masked = mask_text(f"前 {encoded} 後", secret_strings({"k": secret}, ["k"]))
    assert "***" in masked and masked.startswith("前 ") and masked.endswith(" 後")
    # what is left of an encoded text inside a longer one cannot give the secret back
    leftover = masked[2:-2]
    assert all(len(piece) <= 8 for piece in leftover.split("***")), (form, masked)
