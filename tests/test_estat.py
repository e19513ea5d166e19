"""Tests for ebpm.estat.client: recorded real responses, and a fake e-Stat server on 127.0.0.1 (no network)."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
import yaml
from ebpm import config
from ebpm.errors import EstatError
from ebpm.estat import client as estat
from ebpm.estat import parse as estat_parse
from typer.testing import CliRunner

FIXTURES = Path(__file__).parent / "fixtures" / "estat"
CENSUS_EXCERPT = FIXTURES / "getStatsData_0003433219_census2020_prelim_EXCERPT_iwate_futaba.json"
CENSUS_NAME = "getStatsData_0003433219_census2020_prelim_pop_by_sex_all_municipalities.json"
DLT = (
    FIXTURES
    / "estat_api_dlt_helper_SampleResponse1752633595900_getStatsData_0000020202_limit10.json"
)
STATS_LIST = FIXTURES / "estatapiR_getStatsList_searchWord-CD_limit3_2016.json"
META = FIXTURES / "estatapiR_getMetaInfo_0003065345_2016.json"
SECRET = "SECRET-APPID-123"


def _full_census() -> Path:
    """The full 1.5 MB recorded census response, from ../shared or a copy under data/raw."""
    candidates = [config.paths().shared / "data" / "public" / "estat_api_responses" / CENSUS_NAME]
    raw = config.paths().raw
    if raw.is_dir():
        candidates += sorted(raw.rglob(CENSUS_NAME))
    for path in candidates:
        if path.is_file():
            return path
    pytest.skip("国勢調査2020速報の記録済み応答（../shared）がありません")


# ----------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ({"@code": "1"}, [{"@code": "1"}]),
        ([{"@code": "1"}, {"@code": "2"}], [{"@code": "1"}, {"@code": "2"}]),
        ([], []),
        ("-", ["-"]),
    ],
)
def test_as_list_normalises_single_item_dicts(value, expected):
    assert estat_parse._as_list(value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("289893", 289893),
        ("-12", -12),
        ("1,234", 1234),
        ("12.5", 12.5),
        ("1e3", 1000.0),
        ("-", None),
        ("***", None),
        ("X", None),
        ("x", None),
        ("…", None),
        ("", None),
    ],
)
def test_number(text, expected):
    assert estat_parse._number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://h/x?appId=abc&lang=J", "https://h/x?appId=***&lang=J"),
        ("GET /x?lang=J&appid=abc", "GET /x?lang=J&appid=***"),
        ("message with SECRET-APPID-123 inside", "message with *** inside"),
        ("no secret here", "no secret here"),
    ],
)
def test_scrub_removes_app_id(text, expected):
    assert estat._scrub(text, SECRET) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [("cd_area", "cdArea"), ("cdArea", "cdArea"), ("start_position", "startPosition"),
     ("cd_cat01", "cdCat01"), ("limit", "limit")],
)  # fmt: skip
def test_camel(name, expected):
    assert estat._camel(name) == expected


# ----------------------------------------------------------------------------- recorded responses


def test_census_excerpt_morioka_and_futaba():
    df = estat.parse_stats_data(CENSUS_EXCERPT)
    assert len(df) == 15
    total = df[(df.area_code == "03201") & (df.cat01_name == "総数")]
    # 令和2年国勢調査 速報集計, 盛岡市 男女計 (the recorded response; 確定値 is 289,731)
    assert total["value"].tolist() == [289893]
    assert total["area_name"].tolist() == ["盛岡市"]
    assert total["area_level"].tolist() == [4]
    assert total["area_parent"].tolist() == ["03000"]
    futaba = df[df.area_code == "07546"]
    assert len(futaba) == 3
    assert futaba["value"].isna().all()
    assert futaba["note"].tolist() == ["-", "-", "-"]
    assert set(futaba["note_text"]) == {"当該数値がないもの"}
    assert str(df["value"].dtype) == "Int64"
    assert df.attrs["title"] == "男女別人口－全国，都道府県，市区町村"
    assert "令和２年国勢調査" in df.attrs["statistics_name"]  # full-width digit kept as published
    assert df.attrs["credit"] == config.ESTAT_CREDIT


def test_census_full_response():
    df = estat.parse_stats_data(_full_census())
    assert len(df) == 5895  # TOTAL_NUMBER of the recorded response
    morioka = df[df.area_code == "03201"].set_index("cat01_name")["value"]
    assert morioka["総数"] == 289893
    assert morioka["男"] + morioka["女"] == morioka["総数"]
    futaba = df[df.area_code == "07546"]
    assert futaba["value"].isna().all() and set(futaba["note"]) == {"-"}
    # the only NULLs are 双葉町's three cells; no symbol became 0
    assert int(df["value"].isna().sum()) == 3
    assert (df["value"].dropna() > 0).all()
    assert set(df.attrs["notes"]) == {"***", "-"}
    assert df.attrs["symbols"] == {"-": 3}
    # the tab class is a single dict with an empty @level
    assert df["tab_level"].isna().all() and set(df["tab_name"]) == {"人口"}
    assert df["area_code"].nunique() == 1965


def test_dlt_helper_response_paging_marker_units_and_notes():
    df = estat.parse_stats_data(DLT)
    assert len(df) == 10
    assert df.attrs["next_key"] == 11
    assert df.attrs["total_number"] == 403227
    assert set(df["unit"]) == {"ｈａ"}  # half-width katakana kept as published
    assert df.attrs["notes"] == {
        "***": "調査又は集計していないもの",
        "-": "データが得られないもの",
        "X": "数値が秘匿されているもの",
    }
    assert df.attrs["title"] == "Ｂ\u3000自然環境"
    assert df["value"].tolist()[:3] == [111801, 111801, 111801]
    assert df["area_name"].iloc[0] == "北海道 札幌市"
    assert df["area_parent"].iloc[0] == "01000"
    assert df["time_name"].iloc[0] == "1981年度"
    assert df["tab_level"].tolist() == [1] * 10  # tab CLASS was a single dict


def test_dlt_helper_secret_symbol_becomes_null_with_reason():
    data = json.loads(DLT.read_text(encoding="utf-8"))
    values = data["GET_STATS_DATA"]["STATISTICAL_DATA"]["DATA_INF"]["VALUE"]
    values[2]["$"] = "X"  # the recorded NOTE list defines X; mark one cell as 秘匿
    values[3]["$"] = "***"
    df = estat.parse_stats_data(data)
    assert pd.isna(df["value"].iloc[2]) and df["note"].iloc[2] == "X"
    assert df["note_text"].iloc[2] == "数値が秘匿されているもの"
    assert df["note"].iloc[3] == "***" and df["note_text"].iloc[3] == "調査又は集計していないもの"
    assert df["value"].iloc[4] == 111801 and pd.isna(df["note"].iloc[4])


def test_stats_list_parses_to_tidy_frame():
    df = estat.parse_stats_list(STATS_LIST)
    assert df["stats_data_id"].tolist() == ["0003065345", "0003065346", "0003065347"]
    assert set(df["stat_name"]) == {"社会生活基本調査"}
    assert df["overall_total_number"].tolist() == [960336, 454896, 909792]
    assert df["title_no"].tolist() == ["01601", "01602", "01700"]
    assert df.attrs["number"] == 958 and df.attrs["next_key"] == 4
    assert df.attrs["search_word"] == "CD"


def test_meta_info_parses_to_tidy_frame():
    df = estat.parse_meta_info(META)
    counts = df.groupby("class_id").size().to_dict()
    assert counts == {"area": 78, "cat01": 72, "cat02": 3, "cat03": 57, "time": 1}
    sex = df[df.class_id == "cat02"].set_index("name")
    assert sex.loc["男", "parent_code"] == "001" and sex.loc["男", "level"] == 2
    assert df[(df.class_id == "cat01") & (df.code == "106")]["unit"].tolist() == ["千人"]
    assert df.attrs["stats_data_id"] == "0003065345"


def test_parse_response_dispatch_and_wrong_root(tmp_path):
    assert estat.parse_response(META).attrs["endpoint"] == "getMetaInfo"
    assert estat.parse_response(STATS_LIST).attrs["endpoint"] == "getStatsList"
    bad = tmp_path / "other.json"
    bad.write_text('{"GET_DATA_CATALOG": {}}', encoding="utf-8")
    with pytest.raises(EstatError, match="GET_DATA_CATALOG"):
        estat.parse_response(bad)
    with pytest.raises(EstatError, match="GET_STATS_DATA"):
        estat.parse_stats_data(META)


def test_truncated_file_is_a_clear_error(tmp_path):
    cut = tmp_path / "cut.json"
    cut.write_bytes(CENSUS_EXCERPT.read_bytes()[:2000])
    with pytest.raises(EstatError, match="途中で切れて") as info:
        estat.parse_stats_data(cut)
    assert "cut.json" in str(info.value)


def test_read_estat_json_reader(tmp_path):
    ing = estat.read_estat_json(CENSUS_EXCERPT)
    assert len(ing.frame) == 15
    assert ing.units == {"value": "人"}
    assert ing.symbols == {"value": {"-": 3}}
    assert any("「-」" in n for n in ing.notes)
    assert ing.types["value"] == "integer"
    if hasattr(ing, "table"):  # Ingested keeps a pyarrow table for the build
        assert ing.table.num_rows == 15 and str(ing.table.schema.field("value").type) == "int64"
    with pytest.raises(EstatError, match="encoding"):
        estat.read_estat_json(CENSUS_EXCERPT, encoding="cp932")


# ----------------------------------------------------------------------------- fake e-Stat server


def _page(start: int, limit: int, total: int, *, next_key: int | None = "auto") -> dict:
    """A getStatsData page in e-Stat's shape; values 1..total, with a few symbols (模擬データ)."""
    end = min(start + limit - 1, total)
    values = []
    for i in range(start, end + 1):
        text = {7: "X", 13: "…", 22: "-"}.get(i, str(i * 10))
        values.append({"@tab": "01", "@area": f"{i:05d}", "@unit": "人", "$": text})
    info = {"TOTAL_NUMBER": total, "FROM_NUMBER": start, "TO_NUMBER": end}
    if next_key == "auto":
        next_key = end + 1 if end < total else None
    if next_key is not None:
        info["NEXT_KEY"] = next_key
    return {
        "GET_STATS_DATA": {
            "RESULT": {"STATUS": 0, "ERROR_MSG": "正常に終了しました。", "DATE": "2026-01-01T00:00:00"},
            "PARAMETER": {"LANG": "J", "STATS_DATA_ID": "0000000001"},
            "STATISTICAL_DATA": {
                "RESULT_INF": info,
                "TABLE_INF": {
                    "@id": "0000000001",
                    "STAT_NAME": {"@code": "00000001", "$": "模擬統計"},
                    "GOV_ORG": {"@code": "00200", "$": "総務省"},
                    "STATISTICS_NAME": "模擬データ 統計",
                    "TITLE": {"@no": "1", "$": "模擬データの表"},
                },
                "CLASS_INF": {
                    "CLASS_OBJ": [
                        {"@id": "tab", "@name": "表章", "CLASS": {"@code": "01", "@name": "人口", "@level": "1"}},
                        {
                            "@id": "area",
                            "@name": "地域",
                            "CLASS": [
                                {"@code": f"{i:05d}", "@name": f"地域{i}", "@level": "2", "@parentCode": "00000"}
                                for i in range(1, total + 1)
                            ],
                        },
                    ]
                },
                "DATA_INF": {
                    "NOTE": [
                        {"@char": "X", "$": "数値が秘匿されているもの"},
                        {"@char": "-", "$": "該当数値がないもの"},
                    ],
                    "VALUE": values if len(values) != 1 else values[0],
                },
            },
        }
    }  # fmt: skip


def _status(status: int, message: str, root: str = "GET_STATS_DATA") -> dict:
    return {root: {"RESULT": {"STATUS": status, "ERROR_MSG": message, "DATE": "2026-01-01"}}}


class FakeEstat:
    """Scriptable stand-in for api.e-stat.go.jp: ``respond(endpoint, query, n) -> (code, body, delay)``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.respond = lambda endpoint, query, n: (200, _page(1, 100, 5), 0.0)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query))
                endpoint = parts.path.rsplit("/", 1)[-1]
                fake.calls.append((endpoint, query))
                if query.get("appId") != SECRET:
                    code, body, delay = 200, _status(100, "認証に失敗しました。"), 0.0
                else:
                    code, body, delay = fake.respond(endpoint, query, len(fake.calls))
                if delay:
                    time.sleep(delay)
                if isinstance(body, dict):
                    body = json.dumps(body, ensure_ascii=False).encode("utf-8")
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *a: None
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/rest/3.0/app/json"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake(tmp_path, monkeypatch, caplog):
    """A fake e-Stat server, a temporary raw folder, the test appId, and a leak check at the end."""
    server = FakeEstat()
    monkeypatch.setenv("EBPM_ESTAT_BASE_URL", server.base_url)
    monkeypatch.setenv("ESTAT_APP_ID", SECRET)
    monkeypatch.setenv("EBPM_RAW", str(tmp_path / "raw"))
    caplog.set_level(logging.DEBUG)
    yield server
    server.close()
    for path in (tmp_path / "raw").rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(encoding="utf-8", errors="replace"), path
    for record in caplog.records:
        assert SECRET not in record.getMessage()
    assert SECRET not in caplog.text


def _cache(stats_id: str = "0000000001") -> Path:
    return config.paths().raw / "estat" / stats_id


def _no_cache(stats_id: str = "0000000001") -> None:
    folder = config.paths().raw / "estat"
    files = [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []
    assert files == [], files
    assert not _cache(stats_id).exists()


def _no_leak(err: BaseException) -> None:
    text = "".join(traceback.format_exception(err))
    assert SECRET not in text and SECRET not in repr(err.args)


def test_paging_three_pages_exact_rows_and_cache(fake):
    fake.respond = lambda ep, q, n: (200, _page(int(q.get("startPosition", 1)), 10, 25), 0.0)
    data = estat.get_stats_data("0000000001", limit=10, retries=0)
    starts = [q.get("startPosition") for _, q in fake.calls]
    assert starts == [None, "11", "21"]
    assert [q["limit"] for _, q in fake.calls] == ["10", "10", "10"]
    values = data["GET_STATS_DATA"]["STATISTICAL_DATA"]["DATA_INF"]["VALUE"]
    assert len(values) == 25
    info = data["GET_STATS_DATA"]["STATISTICAL_DATA"]["RESULT_INF"]
    assert info == {"TOTAL_NUMBER": 25, "FROM_NUMBER": 1, "TO_NUMBER": 25}
    df = estat.parse_stats_data(data)
    assert len(df) == 25 and df["area_code"].is_unique
    assert df.loc[df.area_code == "00007", "note"].tolist() == ["X"]
    assert df.loc[df.area_code == "00013", "note_text"].tolist() == ["数値が得られないもの"]
    assert int(df["value"].isna().sum()) == 3
    assert df["value"].sum() == sum(i * 10 for i in range(1, 26) if i not in (7, 13, 22))

    folder = _cache()
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "SOURCE.yml", "getStatsData_p1.json", "getStatsData_p2.json", "getStatsData_p3.json",
        "request.yml",
    ]  # fmt: skip
    request = yaml.safe_load((folder / "request.yml").read_text(encoding="utf-8"))
    assert request["credit"] == config.ESTAT_CREDIT
    entry = request["requests"]["getStatsData"]
    assert "appId" not in entry["parameters"] and entry["parameters"]["statsDataId"] == "0000000001"
    assert entry["endpoint"].endswith("/getStatsData")
    assert entry["retrieved"].endswith("+00:00")
    for item in entry["files"]:
        assert hashlib.sha256((folder / item["path"]).read_bytes()).hexdigest() == item["sha256"]
    source = yaml.safe_load((folder / "SOURCE.yml").read_text(encoding="utf-8"))
    assert source["source"] == "estat/0000000001"
    assert source["licence"].startswith("政府標準利用規約")
    assert config.ESTAT_CREDIT in source["attribution"]
    assert source["synthetic"] is False
    assert {f["path"] for f in source["files"]} >= {"getStatsData_p1.json", "request.yml"}
    # the cache folder reads back as the whole table, pages in order
    again = estat.read_estat_json(folder)
    pd.testing.assert_frame_equal(again.frame, df)


def test_page_files_are_the_bytes_received(fake):
    body = json.dumps(_page(1, 100, 4), ensure_ascii=False, indent=2).encode("utf-8")
    fake.respond = lambda ep, q, n: (200, body, 0.0)
    estat.get_stats_data("0000000001")
    assert (_cache() / "getStatsData_p1.json").read_bytes() == body


def test_refetch_replaces_old_pages_and_keeps_meta(fake):
    fake.respond = lambda ep, q, n: (200, _page(int(q.get("startPosition", 1)), 10, 25), 0.0)
    estat.get_stats_data("0000000001", limit=10)
    meta = json.loads(META.read_text(encoding="utf-8"))
    fake.respond = lambda ep, q, n: (200, meta if ep == "getMetaInfo" else _page(1, 100, 5), 0.0)
    estat.get_meta_info("0000000001")
    estat.get_stats_data("0000000001")
    names = sorted(p.name for p in _cache().iterdir())
    assert names == ["SOURCE.yml", "getMetaInfo.json", "getStatsData_p1.json", "request.yml"]
    request = yaml.safe_load((_cache() / "request.yml").read_text(encoding="utf-8"))
    assert set(request["requests"]) == {"getStatsData", "getMetaInfo"}
    assert len(estat.parse_stats_data(_cache())) == 5
    leftovers = [p.name for p in _cache().parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_no_paginate_keeps_next_key(fake):
    fake.respond = lambda ep, q, n: (200, _page(int(q.get("startPosition", 1)), 10, 25), 0.0)
    data = estat.get_stats_data("0000000001", limit=10, paginate=False)
    assert len(fake.calls) == 1
    assert data["GET_STATS_DATA"]["STATISTICAL_DATA"]["RESULT_INF"]["NEXT_KEY"] == 11


def test_http_500_then_success_is_retried(fake):
    def respond(ep, q, n):
        return (500, b"oops", 0.0) if n == 1 else (200, _page(1, 100, 5), 0.0)

    fake.respond = respond
    data = estat.get_stats_data("0000000001", retries=2, backoff=0.01)
    assert len(fake.calls) == 2
    assert len(estat.parse_stats_data(data)) == 5


def test_http_500_every_time_fails_after_retries(fake):
    fake.respond = lambda ep, q, n: (503, b"down", 0.0)
    with pytest.raises(EstatError, match="HTTP 503") as info:
        estat.get_stats_data("0000000001", retries=2, backoff=0.01)
    assert len(fake.calls) == 3
    assert "3 回試みました" in str(info.value)
    _no_leak(info.value)
    _no_cache()


def test_http_403_is_not_retried(fake):
    fake.respond = lambda ep, q, n: (403, b"forbidden", 0.0)
    with pytest.raises(EstatError, match="HTTP 403") as info:
        estat.get_stats_data("0000000001", retries=3, backoff=0.01)
    assert len(fake.calls) == 1
    _no_leak(info.value)
    _no_cache()


def test_status_100_authentication_error(fake):
    # the server echoes the appId in its message; it must be scrubbed
    fake.respond = lambda ep, q, n: (200, _status(100, f"認証に失敗しました。appId={SECRET}"), 0.0)
    with pytest.raises(EstatError, match="STATUS 100") as info:
        estat.get_stats_data("0000000001")
    assert "認証に失敗" in str(info.value) and "ESTAT_APP_ID" in str(info.value)
    _no_leak(info.value)
    _no_cache()


def test_unknown_stats_data_id(fake):
    fake.respond = lambda ep, q, n: (200, _status(100, "指定された統計表IDは存在しません。"), 0.0)
    with pytest.raises(EstatError, match="統計表IDは存在しません") as info:
        estat.get_stats_data("9999999999")
    assert "9999999999" in str(info.value)
    _no_cache("9999999999")
    with pytest.raises(EstatError, match="形式が正しくありません"):
        estat.get_stats_data("../etc")
    _no_cache("9999999999")


def test_status_1_is_an_empty_result_with_a_warning(fake, caplog):
    body = _status(1, "正常に終了しましたが、該当データはありませんでした。")
    body["GET_STATS_DATA"]["STATISTICAL_DATA"] = {"RESULT_INF": {"TOTAL_NUMBER": 0}}
    fake.respond = lambda ep, q, n: (200, body, 0.0)
    data = estat.get_stats_data("0000000001", cdArea="99999")
    df = estat.parse_stats_data(data)
    assert len(df) == 0 and "value" in df.columns
    assert any(
        r.levelno == logging.WARNING and "該当データ" in r.getMessage() for r in caplog.records
    )
    assert fake.calls[0][1]["cdArea"] == "99999"


def test_timeout_is_retried_then_fails(fake):
    # the server answers after 30 s (daemon threads: the fixture does not wait for them) and the
    # client gives up after 0.2 s, so both attempts time out however loaded the machine is
    fake.respond = lambda ep, q, n: (200, _page(1, 100, 5), 30.0)
    # (no clock is read here: how long the attempts took depends on the machine's load)
    with pytest.raises(EstatError, match="タイムアウト") as info:
        estat.get_stats_data("0000000001", timeout=0.2, retries=1, backoff=0.01)
    assert len(fake.calls) == 2
    _no_leak(info.value)
    _no_cache()


def test_truncated_json_is_not_cached(fake):
    whole = json.dumps(_page(1, 100, 5), ensure_ascii=False).encode("utf-8")
    fake.respond = lambda ep, q, n: (200, whole[: len(whole) // 2], 0.0)
    with pytest.raises(EstatError, match="途中で切れて") as info:
        estat.get_stats_data("0000000001")
    _no_leak(info.value)
    _no_cache()


def test_page_with_missing_values_is_truncated(fake):
    page = _page(1, 10, 10)
    page["GET_STATS_DATA"]["STATISTICAL_DATA"]["DATA_INF"]["VALUE"] = page["GET_STATS_DATA"][
        "STATISTICAL_DATA"
    ]["DATA_INF"]["VALUE"][:6]
    fake.respond = lambda ep, q, n: (200, page, 0.0)
    with pytest.raises(EstatError, match="件数が合いません"):
        estat.get_stats_data("0000000001")
    _no_cache()


def test_error_on_a_later_page_caches_nothing(fake):
    def respond(ep, q, n):
        if q.get("startPosition") == "21":
            return 200, b'{"GET_STATS_DATA": {"RESULT": {"STAT', 0.0
        return 200, _page(int(q.get("startPosition", 1)), 10, 25), 0.0

    fake.respond = respond
    with pytest.raises(EstatError, match="3 ページ目"):
        estat.get_stats_data("0000000001", limit=10)
    _no_cache()


def test_paging_that_does_not_advance(fake):
    fake.respond = lambda ep, q, n: (200, _page(1, 10, 25, next_key=1), 0.0)
    with pytest.raises(EstatError, match="ページ送りが進みません"):
        estat.get_stats_data("0000000001", limit=10)
    assert len(fake.calls) == 1
    _no_cache()


def test_missing_app_id(fake, monkeypatch):
    monkeypatch.delenv("ESTAT_APP_ID")
    with pytest.raises(EstatError, match="ESTAT_APP_ID") as info:
        estat.get_stats_data("0000000001")
    assert "export ESTAT_APP_ID" in str(info.value)
    assert fake.calls == []
    _no_cache()
    with pytest.raises(EstatError, match="appId は引数で渡せません"):
        estat.get_stats_data("0000000001", appId=SECRET)


def test_stats_list_and_meta_info_are_cached(fake):
    listing = json.loads(STATS_LIST.read_text(encoding="utf-8"))
    meta = json.loads(META.read_text(encoding="utf-8"))
    fake.respond = lambda ep, q, n: (200, listing if ep == "getStatsList" else meta, 0.0)
    df = estat.parse_stats_list(estat.get_stats_list("人口 盛岡", limit=3))
    assert len(df) == 3
    assert fake.calls[0][1]["searchWord"] == "人口 盛岡"
    meta_df = estat.parse_meta_info(estat.get_meta_info("0003065345"))
    assert len(meta_df) == 211
    assert (_cache("0003065345") / "getMetaInfo.json").read_bytes() == json.dumps(
        meta, ensure_ascii=False
    ).encode("utf-8")
    lists = list((config.paths().raw / "estat").glob("_stats_list_*/getStatsList.json"))
    assert len(lists) == 1
    source = yaml.safe_load((lists[0].parent / "SOURCE.yml").read_text(encoding="utf-8"))
    assert "人口 盛岡" in source["title_ja"] and config.ESTAT_CREDIT in source["attribution"]
    meta_source = yaml.safe_load((_cache("0003065345") / "SOURCE.yml").read_text(encoding="utf-8"))
    assert meta_source["attribution"].startswith("「社会生活基本調査」（総務省）を加工して作成")


# ----------------------------------------------------------------------------- CLI

runner = CliRunner()


def _cli(*args: str):
    from ebpm.cli import app

    return runner.invoke(app, ["estat", *args])


def test_cli_parse_csv_is_machine_readable_with_credit_on_stderr():
    result = _cli("parse", str(CENSUS_EXCERPT), "--format", "csv")
    assert result.exit_code == 0, result.output
    assert config.ESTAT_CREDIT not in result.stdout
    assert config.ESTAT_CREDIT in result.stderr
    import io

    df = pd.read_csv(io.StringIO(result.stdout), dtype={"area_code": str})
    assert df.loc[(df.area_code == "03201") & (df.cat01_name == "総数"), "value"].tolist() == [
        289893
    ]
    assert df.loc[df.area_code == "07546", "note"].tolist() == ["-", "-", "-"]


def test_cli_parse_json_and_table():
    result = _cli("parse", str(META), "--format", "json")
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)) == 211
    assert config.ESTAT_CREDIT in result.stderr
    table = _cli("parse", str(CENSUS_EXCERPT))
    assert table.exit_code == 0 and "盛岡市" in table.stdout
    assert config.ESTAT_CREDIT in table.stdout
    bad = _cli("parse", str(META), "--format", "xml")
    assert isinstance(bad.exception, EstatError) and "csv・json・table" in str(bad.exception)


def test_cli_fetch_and_search(fake):
    listing = json.loads(STATS_LIST.read_text(encoding="utf-8"))

    def respond(ep, q, n):
        if ep == "getStatsList":
            return 200, listing, 0.0
        return 200, _page(int(q.get("startPosition", 1)), 10, 25), 0.0

    fake.respond = respond
    result = _cli("fetch", "0000000001", "--cd-area", "00001,00002")
    assert result.exit_code == 0, result.output
    assert "行数: 25" in result.stdout and str(_cache()) in result.stdout
    assert config.ESTAT_CREDIT in result.stdout
    assert fake.calls[0][1]["cdArea"] == "00001,00002"
    limited = _cli("fetch", "0000000001", "--limit", "10")
    assert "行数: 10" in limited.stdout and "続きがあります" in limited.stdout
    found = _cli("search", "CD")
    assert found.exit_code == 0 and "0003065345" in found.stdout
    assert config.ESTAT_CREDIT in found.stdout
    assert SECRET not in result.output + limited.output + found.output
