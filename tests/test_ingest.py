"""Ingest: real messy public files read correctly or refused with a clear Japanese error."""

from __future__ import annotations

import datetime as dt
import functools
import json
import zipfile
from pathlib import Path

import pytest
from ebpm.config import paths
from ebpm.errors import IngestError
from ebpm.ingest import jp
from ebpm.ingest.read import read, read_csv, read_excel

FIX = Path(__file__).parent / "fixtures" / "ingest"


def shared(rel: str) -> Path:
    path = paths().shared / "data" / "public" / rel
    if not path.exists():
        pytest.skip(f"{rel} がありません（../shared なし）")
    return path


# The 住基 workbooks take 1–3 CPU-s each to read. The file-by-file test and the juki tests below
# check different things of the same read (``read`` of an .xls/.xlsx is ``read_excel`` of it with no
# options), so each is read once per worker; the group keeps those tests on one worker.
JUKI = {f"soumu_juki_population/{n}" for n in ("2204ssnen.xlsx", "2203ssjin.xlsx", "1903ssjin.xls")}
JUKI_GROUP = pytest.mark.xdist_group("juki_workbooks")


@functools.cache
def read_public(rel: str):
    """``read(shared(rel))``, once per worker (the result is only read by the tests)."""
    return read(shared(rel))


def row(ing, column: str, value):
    """The one record whose ``column`` equals ``value``."""
    recs = [r for r in ing.table.to_pylist() if r[column] == value]
    assert len(recs) == 1, (column, value, len(recs))
    return recs[0]


# --- pure helpers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("都道府県コ―ド又は市区町村コ―ド", "都道府県コード又は市区町村コード"),  # U+2015
        ("№", "No"),
        ("７年度\n", "7年度"),
        ("  総 数 Total ", "総数 Total"),
        ("面  積", "面積"),
        ("転入者数（国内）", "転入者数(国内)"),
        ("増減数(Ａ)-(Ｂ)", "増減数(A)-(B)"),
        ("人口\r\n総数", "人口総数"),
        ("Year and\nMonth", "Year and Month"),
        ("センタ―", "センター"),
        ("0歳-4歳", "0歳-4歳"),  # a dash after a digit is not a long vowel
        (None, ""),
    ],
)
def test_normalize_header(raw, expected):
    assert jp.normalize_header(raw) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("人口【千人】", ("人口", "千人")),
        ("年平均気温【℃】", ("年平均気温", "℃")),
        ("面積(単位:km2)", ("面積", "km2")),
        ("総数", ("総数", None)),
    ],
)
def test_split_unit(header, expected):
    assert jp.split_unit(header) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("＜西神山手線＞\n駅別乗車人員（１日平均）   (人）", "人"),
        ("人口推計（単位：千人）", "千人"),
        ("気温【℃】", "℃"),
        ("令和4年1月1日住民基本台帳人口（市区町村別）（総計）", None),
        ("", None),
    ],
)
def test_unit_in_title(title, expected):
    assert jp.unit_in_title(title) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("27,506", 27506),
        ("1,234,567", 1234567),
        ("△1.5", -1.5),
        ("▲300", -300),
        ("１２３", 123),
        ("０．５", 0.5),
        ("-12", -12),
        ("3.0e2", 300.0),
        ("-", None),
        ("…", None),
        ("x", None),
        ("X", None),
        ("***", None),
        ("－", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_number(text, expected):
    assert jp.parse_number(text) == expected


@pytest.mark.parametrize("text", ["12,34", "1,2345", "abc", "12人", "1.2.3"])
def test_parse_number_rejects(text):
    with pytest.raises(ValueError, match="数値ではありません"):
        jp.parse_number(text)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("団体コード", True),
        ("code", True),
        ("lgcode", True),
        ("NO", True),
        ("施設ID", True),
        ("区CD", True),
        ("電話番号", True),
        ("total", False),
        ("総人口", False),
        ("Notes", False),
    ],
)
def test_is_code_name(header, expected):
    assert jp.is_code_name(header) is expected


# --- real files in tests/fixtures/ingest --------------------------------------------------------


def test_census_2020_morioka_total():
    ing = read_csv(FIX / "census_2020_p1.csv")
    assert ing.encoding == "utf-8" and ing.header_row == 1
    morioka = row(ing, "code", "03201")
    assert morioka["total"] == 289_731  # 国勢調査2020 確定 (PROVENANCE §1)
    assert morioka["male"] + morioka["female"] == 289_731
    assert ing.types["code"] == "string" and ing.types["total"] == "integer"
    assert ing.types["avg_age"] == "number"
    assert ing.frame["total"].dtype == "Int64"


def test_estat_dash_becomes_null_with_reason():
    ing = read_csv(FIX / "census_2020_p2.csv")
    assert "wB_note" in ing.columns
    assert ing.symbols["wB"] == {"-": 7}
    recs = ing.table.to_pylist()
    dashed = [r for r in recs if r["wB"] is None]
    assert len(dashed) == 7
    assert all(r["wB_note"] == "該当数値なし（-）" for r in dashed)
    assert all(r["wB_note"] is None for r in recs if r["wB"] is not None)
    assert 0 not in [r["wB"] for r in dashed]  # never 0
    assert any("wB_note" in n for n in ing.notes)
    assert any("wT" in p for p in ing.problems)  # the all-empty column is reported


def test_symbol_reasons_can_be_overridden(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("code,value\n01,1\n02,x\n03,***\n04,…\n05,Ｘ\n", encoding="utf-8")
    ing = read_csv(p, symbols={"x": "秘匿（市の基準）"})
    notes = [r["value_note"] for r in ing.table.to_pylist()]
    assert notes == [
        None,
        "秘匿（市の基準）",
        "調査・集計していない（***）",
        "数値不詳（…）",
        "秘匿（x）",
    ]
    plain = read_csv(p, symbols=False)
    assert plain.types["value"] == "string" and "value_note" not in plain.columns


def test_kobe_h7_27_embedded_newlines_and_thousands():
    ing = read_csv(FIX / "H7-27.csv")
    assert ing.header_row == 4  # the title record spans lines 1–3
    assert "7年度" in ing.columns and "27年度" in ing.columns  # ７年度\n → 7年度
    first = ing.table.to_pylist()[0]
    assert first["column_1"] == "新 神 戸"  # trailing newline stripped; padding kept as written
    assert first["7年度"] == 27_506 and first["8年度"] == 26_664
    assert ing.types["7年度"] == "integer"
    total = row(ing, "column_1", "計")
    assert total["7年度"] == 286_793
    assert any("改行コードが混在" in n for n in ing.notes)
    assert any("421行目で見出しが繰り返されています" in p for p in ing.problems)
    assert ing.units["7年度"] == "人"  # from the title "駅別乗車人員（１日平均） (人）"


def test_kobe_h7_27_second_table_by_header_row():
    ing = read_csv(FIX / "H7-27.csv", header_row=421)
    first = ing.table.to_pylist()[0]
    assert first["column_1"] == "三宮・花時計前"
    assert first["7年度"] is None and first["7年度_note"] == "該当数値なし（-）"


def test_yaizu_header_typo_normalised():
    ing = read_csv(FIX / "222127_preschool.csv")
    assert ing.columns[0] == "都道府県コード又は市区町村コード"
    assert any("コ―ド" in n for n in ing.notes)
    assert ing.types["NO"] == "string"
    assert ing.table.column("NO")[0].as_py() == "0013010001"  # zero padding kept
    assert ing.table.num_rows == 60


def test_yaizu_bom_and_newlines_inside_quotes():
    ing = read_csv(FIX / "222127_tourism_sights.csv")
    assert ing.encoding == "utf-8-sig"
    assert ing.table.num_rows == 28  # 29 records incl. header on 34 lines (PROVENANCE §6)
    assert not ing.columns[0].startswith("\ufeff")
    assert any(
        "\n" in (v or "") for c in ing.table.columns for v in c.to_pylist() if isinstance(v, str)
    )


def test_kobe_cp932_and_number_sign():
    ing = read_csv(FIX / "okunaihinanjyo.csv")
    assert ing.encoding == "cp932"
    assert ing.columns[0] == "No"
    assert any("「№」→「No」" in n for n in ing.notes)
    first = ing.table.to_pylist()[0]
    assert first["No"] == "0001" and first["名称"] == "東灘小学校"
    assert ing.types["緯度"] == "number"


def test_cp932_declared_as_shift_jis():
    ing = read_csv(FIX / "okunaihinanjyo.csv", encoding="shift_jis")
    assert ing.encoding == "cp932" and ing.table.num_rows == 338


def test_estat_download_unit_in_cell_and_thousands():
    ing = read_csv(FIX / "FEH_00200524_200927163843.csv")
    assert ing.encoding == "cp932"
    japan = row(ing, "全国・都道府県", "全国")
    assert japan["2015年"] == 127_095  # "127,095" (千人)
    assert ing.units["2015年"] == "千人"
    assert row(ing, "全国・都道府県", "岩手県")["2019年"] == 1_227


def test_unit_in_header():
    ing = read_csv(FIX / "estat_dashboard_Sample_20201008140116.csv")
    assert ing.encoding == "utf-8-sig"
    assert "年平均気温" in ing.columns and ing.units["年平均気温"] == "℃"
    assert ing.types["年平均気温"] == "number"
    assert ing.types["地域コード"] == "string"


def test_japanpost_no_header_halfwidth_kana_kept():
    ing = read_csv(FIX / "japanpost_KEN_ALL_13TOKYO_head300.CSV")
    assert ing.header_row is None and ing.columns[:2] == ["col1", "col2"]
    first = ing.table.to_pylist()[0]
    assert first["col4"] == "ﾄｳｷｮｳﾄ"  # kana kept as written by default
    assert first["col9"] == "以下に掲載がない場合"
    nfkc = read_csv(FIX / "japanpost_KEN_ALL_13TOKYO_head300.CSV", normalize="nfkc")
    assert nfkc.table.to_pylist()[0]["col4"] == "トウキョウト"


def test_prefjp_lost_leading_zero_stays_text():
    from ebpm.ingest.codes import to_code6

    ing = read_csv(FIX / "prefjp-utf8.csv")
    hokkaido = row(ing, "pref", "北海道")
    assert hokkaido["lgcode"] == "10006"  # as written: a code column stays text
    assert to_code6(hokkaido["lgcode"]) == "010006"
    assert any("最後に改行がありません" in p for p in ing.problems)


def test_codes_option_normalises_area_codes(tmp_path):
    ing = read_csv(FIX / "prefjp-utf8.csv", codes={"lgcode": "code6"})
    assert row(ing, "pref", "北海道")["lgcode"] == "010006"
    assert row(ing, "pref", "岩手県")["lgcode"] == "030007"
    five = read_csv(FIX / "census_2020_p1.csv", codes={"code": "code6"})
    assert row(five, "total", 289_731)["code"] == "032018"
    text = "code,total\n3201,1\n-,2\n032019,3\n"
    p = write(tmp_path, "c.csv", text.encode())
    with pytest.raises(IngestError, match="検査数字が合いません") as err:
        read_csv(p, codes={"code": "code5"})
    assert (err.value.row, err.value.column) == (4, "code")
    ok = read_csv(write(tmp_path, "d.csv", b"code,total\n3201,1\n-,2\n"), codes={"code": "code5"})
    assert ok.table.column("code").to_pylist() == ["03201", None]
    with pytest.raises(IngestError, match="code5"):
        read_csv(p, codes={"code": "code7"})


def test_bom_crlf_and_wareki_in_text():
    ing = read_csv(FIX / "institution01_20141128.csv")
    assert ing.encoding == "utf-8-sig" and ing.columns[0] == "施設ID"
    assert ing.types["施設ID"] == "string"
    assert row(ing, "施設名", "神戸市役所")["電話番号"] == "078-331-8181（代）"


def test_dates_and_trailing_empty_column():
    ing = read_csv(FIX / "akishima_132071_chiiki_nenreibetsu_jinko_2025_excerpt.csv")
    assert ing.types["調査年月日"] == "date"
    assert ing.table.column("調査年月日")[0].as_py() == dt.date(2025, 1, 1)
    first = ing.table.to_pylist()[0]
    assert first["総人口"] == first["男性"] + first["女性"] == 115_632
    assert any("備考" in p for p in ing.problems)  # empty column reported, not dropped


def test_retired_codes_kept_as_written():
    ing = read_csv(FIX / "census_2010_p1.csv")
    assert row(ing, "code", "03305")["name"] == "滝沢村"
    assert row(ing, "code", "03422")["name"] == "藤沢町"


def test_kobe_xls_merged_cells_and_titles():
    ing = read_excel(FIX / "jinkou2708.xls")
    assert ing.sheets == ["毎月人口ＨＰ"]
    assert ing.header_rows == [8, 9]
    assert any("結合セル" in n for n in ing.notes)
    assert any("タイトル行" in n for n in ing.notes)
    assert "人口Population_総数 Total" in ing.columns


def test_read_dispatches_by_suffix():
    assert read(FIX / "jinkou2708.xls").sheet == "毎月人口ＨＰ"
    assert read(FIX / "census_2020_p1.csv").encoding == "utf-8"
    with pytest.raises(IngestError, match="reader"):
        read(FIX / "census_2020_p1.csv", reader="pdf")


# --- big real files in ../shared ----------------------------------------------------------------


@JUKI_GROUP
def test_juki_2022_xlsx_ruby_free_headers():
    ing = read_public("soumu_juki_population/2204ssnen.xlsx")
    assert ing.header_rows == [2, 3]
    assert ing.columns[:5] == ["団体コード", "都道府県名", "市区町村名", "性別", "総数"]
    assert not any("ソウスウ" in c or "ダンタイ" in c for c in ing.columns)  # no ruby text
    assert ing.units["総数"] == "人"
    recs = [r for r in ing.table.to_pylist() if r["団体コード"] == "032018" and r["性別"] == "計"]
    assert recs[0]["総数"] == 285_270  # 住基 2022-01-01 (PROVENANCE §9)
    assert any("注記行" in n for n in ing.notes)


@JUKI_GROUP
def test_juki_2022_jin_wareki_and_western_header_rows():
    ing = read_public("soumu_juki_population/2203ssjin.xlsx")
    assert "2022年_人口_計" in ing.columns and "2022年_世帯数" in ing.columns
    assert not any(c.startswith("令和") for c in ing.columns)
    assert ing.units["2022年_世帯数"] == "世帯"
    morioka = [r for r in ing.table.to_pylist() if r["団体コード"] == "032018"][0]
    assert morioka["2022年_人口_計"] == 285_270
    assert morioka["2022年_人口_男"] + morioka["2022年_人口_女"] == 285_270


@JUKI_GROUP
def test_juki_2019_legacy_xls():
    ing = read_public("soumu_juki_population/1903ssjin.xls")
    assert ing.header_rows == [2, 3, 4]
    assert "平成31年_人口_計" in ing.columns
    morioka = [r for r in ing.table.to_pylist() if r["団体コード"] == "032018"][0]
    assert morioka["平成31年_人口_男"] + morioka["平成31年_人口_女"] == morioka["平成31年_人口_計"]


def test_kobe_zensi_xls_sheets():
    ing = read_excel(shared("kobe_city_opendata/zensi2706.xls"), sheet="東灘区")
    assert ing.sheet == "東灘区" and len(ing.sheets) == 11
    assert ing.types["区コード"] == "string" and ing.types["世帯数"] == "integer"
    with pytest.raises(IngestError, match="シート「芦屋市」はありません"):
        read_excel(shared("kobe_city_opendata/zensi2706.xls"), sheet="芦屋市")


def test_localgovjp_sjis_every_field_quoted():
    ing = read_csv(shared("localgovjp/2019/localgovjp-sjis.csv"))
    assert ing.encoding == "cp932" and ing.table.num_rows == 1916
    assert row(ing, "city", "盛岡市")["pref"] == "岩手県"


def test_futaba_estat_dash_via_csv(tmp_path):
    """双葉町 (07546) is '-' for every sex in the 2020 preliminary census (PROVENANCE §3)."""
    data = json.loads(
        shared(
            "estat_api_responses/getStatsData_0003433219_census2020_prelim_pop_by_sex_all_municipalities.json"
        ).read_text(encoding="utf-8")
    )
    values = data["GET_STATS_DATA"]["STATISTICAL_DATA"]["DATA_INF"]["VALUE"]
    lines = ["area,cat,value"] + [f"{v['@area']},{v['@cat01']},{v['$']}" for v in values]
    p = tmp_path / "census2020_prelim.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ing = read_csv(p)
    futaba = [r for r in ing.table.to_pylist() if r["area"] == "07546"]
    assert len(futaba) == 3
    assert all(r["value"] is None and r["value_note"] == "該当数値なし（-）" for r in futaba)
    morioka = [r for r in ing.table.to_pylist() if r["area"] == "03201"]
    assert max(r["value"] for r in morioka) == 289_893  # 速報 (PROVENANCE §1 note)


def _public_files():
    base = paths().shared / "data" / "public"
    if not base.exists():
        return []
    rels = sorted(
        p.relative_to(base).as_posix()
        for p in base.rglob("*")
        if p.suffix.lower() in (".csv", ".xls", ".xlsx")
    )
    return [pytest.param(r, marks=JUKI_GROUP) if r in JUKI else r for r in rels]


@pytest.mark.slow
@pytest.mark.parametrize("rel", _public_files() or ["(none)"])
def test_every_public_file_reads_or_refuses_clearly(rel):
    if rel == "(none)":
        pytest.skip("../shared がありません")
    try:
        ing = read_public(rel)
    except IngestError as err:
        assert err.file and str(err)  # a clear Japanese error naming the file
        return
    assert ing.table.num_columns > 0
    assert len(set(ing.columns)) == len(ing.columns)
    assert all(isinstance(n, str) and n for n in ing.notes)


# --- bad input: synthetic files -----------------------------------------------------------------

GOOD = "code,name,total\n03201,盛岡市,289731\n03202,宮古市,50369\n03203,大船渡市,34728\n"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_truncated_mid_quote(tmp_path):
    p = write(
        tmp_path, "t.csv", 'code,name,note\n03201,盛岡市,"abc\ndef\n03202,宮古市,x\n'.encode()
    )
    with pytest.raises(IngestError, match="引用符") as err:
        read_csv(p)
    assert err.value.row == 2 and err.value.file == "t.csv"


def test_truncated_mid_row(tmp_path):
    p = write(tmp_path, "t.csv", GOOD.encode("cp932")[:-7])
    with pytest.raises(IngestError, match="途中で切れている") as err:
        read_csv(p)
    assert err.value.row == 4 and err.value.column == "total"


def test_truncated_mid_character(tmp_path):
    p = write(tmp_path, "t.csv", GOOD.encode()[:-8])
    with pytest.raises(IngestError, match="文字が途中で切れています") as err:
        read_csv(p)
    assert err.value.row == 4


def test_ragged_row_counts_physical_lines(tmp_path):
    text = 'code,name,total\n03201,"盛岡\n市",1\n03202,宮古市,2,9\n'
    p = write(tmp_path, "t.csv", text.encode())
    with pytest.raises(IngestError, match="4列あります") as err:
        read_csv(p)
    assert err.value.row == 4  # the embedded newline pushes the bad record to line 4


def test_bad_value_row_and_column(tmp_path):
    text = 'code,name,total\n03201,"盛岡\n市",1\n03202,宮古市,たくさん\n'
    p = write(tmp_path, "t.csv", text.encode())
    with pytest.raises(IngestError, match="整数として読めません") as err:
        read_csv(p, dtype={"total": "integer"})
    assert (err.value.row, err.value.column) == (4, "total")
    assert "4行目" in str(err.value) and "列「total」" in str(err.value)


def test_not_in_declared_encoding(tmp_path):
    p = write(tmp_path, "t.csv", GOOD.encode("cp932"))
    with pytest.raises(IngestError, match="UTF-8 として読めないバイト") as err:
        read_csv(p, encoding="utf-8")
    assert err.value.row == 2
    assert read_csv(p).encoding == "cp932"  # auto finds it


def test_euc_jp_is_found(tmp_path):
    # EUC-JP bytes also decode as CP932, but as half-width kana mojibake; the cleaner reading wins
    text = "code,name\n03201,盛岡市\n03202,宮古市\n"
    data = text.encode("euc-jp")
    assert data.decode("cp932") != text
    ing = read_csv(write(tmp_path, "e.csv", data))
    assert ing.encoding == "euc-jp" and row(ing, "code", "03201")["name"] == "盛岡市"


def test_wareki_date_cells(tmp_path):
    text = "日付,件数\n令和2年4月1日,1\nR2.4.2,2\nH31.4.30,3\n令和元年５月１日,4\n"
    ing = read_csv(write(tmp_path, "d.csv", text.encode()))
    assert ing.types["日付"] == "date"
    assert ing.table.column("日付").to_pylist() == [
        dt.date(2020, 4, 1),
        dt.date(2020, 4, 2),
        dt.date(2019, 4, 30),
        dt.date(2019, 5, 1),
    ]
    assert any("和暦→西暦" in n for n in ing.notes)
    bad = "日付,件数\n令和2年4月1日,1\n平成31年5月1日,2\n"
    with pytest.raises(IngestError, match="平成の期間") as err:
        read_csv(write(tmp_path, "e.csv", bad.encode()), dtype={"日付": "date"})
    assert (err.value.row, err.value.column) == (3, "日付")


def test_source_row_counts_lines_titles_and_dropped_rows(tmp_path):
    text = '表題,,\ncode,name,total\n03201,"盛岡\n市",1\n,,\n03202,宮古市,2\n'
    ing = read_csv(write(tmp_path, "r.csv", text.encode()))
    assert ing.header_row == 2 and ing.table.num_rows == 2
    assert [ing.source_row(0), ing.source_row(1)] == [3, 6]
    xl = read_excel(FIX / "jinkou2708.xls")
    assert xl.source_row(0) == 10  # first data row under the two header rows 8–9


def test_read_passes_build_options():
    ing = read(FIX / "okunaihinanjyo.csv", "csv", encoding="cp932", header_row=1, columns=["No"])
    assert ing.encoding == "cp932" and ing.header_row == 1


def test_undecodable_in_any_encoding(tmp_path):
    p = write(tmp_path, "t.csv", b"code,name\n1,\x81\xff\xfe\x80abc\n")
    with pytest.raises(IngestError, match="文字コードを判定できません"):
        read_csv(p)


def test_unknown_encoding_parameter(tmp_path):
    p = write(tmp_path, "t.csv", GOOD.encode())
    with pytest.raises(IngestError, match="文字コード「latin-9」は使えません"):
        read_csv(p, encoding="latin-9")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "空です"),
        (bytes(range(256)) * 4, "バイナリ"),
        (b"PK\x03\x04" + b"\x00" * 100, "reader: excel"),
        (b"%PDF-1.4\n", "PDF"),
    ],
)
def test_not_a_text_file(tmp_path, data, message):
    p = write(tmp_path, "t.csv", data)
    with pytest.raises(IngestError, match=message):
        read_csv(p)


def test_utf16_and_mixed_eol_and_tabs(tmp_path):
    assert read_csv(write(tmp_path, "a.csv", GOOD.encode("utf-16"))).encoding == "utf-16"
    mixed = GOOD.replace("\n", "\r\n", 2).encode()
    ing = read_csv(write(tmp_path, "b.csv", mixed))
    assert ing.table.num_rows == 3 and any("混在" in n for n in ing.notes)
    tabbed = read_csv(write(tmp_path, "c.tsv", GOOD.replace(",", "\t").encode()))
    assert tabbed.delimiter == "\t" and row(tabbed, "code", "03201")["total"] == 289_731


def test_duplicate_header(tmp_path):
    p = write(tmp_path, "t.csv", b"code,total,total\n1,2,3\n")
    with pytest.raises(IngestError, match="見出し「total」が2回あります") as err:
        read_csv(p)
    assert (err.value.row, err.value.column) == (1, "total")


def test_missing_required_column(tmp_path):
    p = write(tmp_path, "t.csv", GOOD.encode())
    assert read_csv(p, columns=["code", "total"]).table.num_rows == 3
    with pytest.raises(IngestError, match="必要な列がありません: population") as err:
        read_csv(p, columns=["code", "population"])
    assert err.value.column == "population"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"normalize": "nfc"}, "normalize"),
        ({"header_row": 0}, "header_row"),
        ({"header_row": 3}, "3行目から始まる行がありません"),
        ({"dtype": {"b": "float"}}, "型「float」は使えません"),
        ({"dtype": {"nope": "integer"}}, "列「nope」がありません"),
        ({"delimiter": ",,"}, "1文字"),
    ],
)
def test_bad_options(tmp_path, kwargs, message):
    p = write(tmp_path, "t.csv", b'a,b\n"x\ny",2\n')
    with pytest.raises(IngestError, match=message):
        read_csv(p, **kwargs)


def test_missing_file(tmp_path):
    with pytest.raises(IngestError, match="ファイルがありません"):
        read_csv(tmp_path / "nope.csv")


def test_truncated_excel(tmp_path):
    src = FIX / "jinkou2708.xls"
    p = write(tmp_path, "t.xls", src.read_bytes()[:20000])
    with pytest.raises(IngestError, match="途中で切れている"):
        read_excel(p)
    q = write(tmp_path, "t.xlsx", _tiny_xlsx(tmp_path).read_bytes()[:600])
    with pytest.raises(IngestError, match="途中で切れている"):
        read_excel(q)
    with pytest.raises(IngestError, match="Excel ファイルではありません"):
        read_excel(FIX / "census_2020_p1.csv")


def _tiny_xlsx(tmp_path: Path, *, ruby: bool = False) -> Path:
    """A small 住基-like workbook: title row, merged header, unit row; optional ruby (rPh) text."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人口"
    ws.append(["令和4年1月1日住民基本台帳人口（模擬データ）"])
    ws.append(["団体コード", "市区町村名", "人口", None, "世帯数"])
    ws.append([None, None, "男", "女", None])
    ws.append([None, None, "人", "人", "世帯"])
    ws.append(["032018", "盛岡市", 134636, 150634, 137623])
    ws.append(["032026", "宮古市", "x", 25000, "-"])
    ws.append(["注）模擬データ"])
    ws.merge_cells("C2:D2")
    ws.merge_cells("E2:E3")
    path = tmp_path / ("ruby.xlsx" if ruby else "tiny.xlsx")
    wb.save(path)
    if ruby:  # add phonetic runs the way Excel stores them
        patched = tmp_path / "patched.xlsx"
        with zipfile.ZipFile(path) as zin, zipfile.ZipFile(patched, "w") as zout:
            for item in zin.infolist():
                data = zin.read(item.filename)
                if item.filename == "xl/sharedStrings.xml":
                    text = data.decode("utf-8")
                    assert "<t>人口</t>" in text
                    text = text.replace(
                        "<t>人口</t>", '<t>人口</t><rPh sb="0" eb="2"><t>ジンコウ</t></rPh>'
                    )
                    data = text.encode("utf-8")
                zout.writestr(item, data)
        return patched
    return path


def test_xlsx_merged_header_units_symbols(tmp_path):
    ing = read_excel(_tiny_xlsx(tmp_path))
    assert ing.columns == [
        "団体コード",
        "市区町村名",
        "人口_男",
        "人口_男_note",
        "人口_女",
        "世帯数",
        "世帯数_note",
    ]
    assert ing.header_rows == [2, 3, 4]
    assert ing.units == {"人口_男": "人", "人口_女": "人", "世帯数": "世帯"}
    recs = ing.table.to_pylist()
    assert len(recs) == 2  # the 注） line under the table is dropped
    assert recs[0]["人口_男"] == 134_636 and recs[0]["団体コード"] == "032018"
    assert recs[1]["人口_男"] is None and recs[1]["人口_男_note"] == "秘匿（x）"
    assert recs[1]["世帯数"] is None and recs[1]["世帯数_note"] == "該当数値なし（-）"
    assert ing.types["人口_男"] == "integer"
    assert any("結合セル（2か所）" in n for n in ing.notes)


def test_xlsx_text_only_table_has_one_header_row(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["名称", "住所", "電話番号"])
    for i in range(8):
        ws.append([f"避難所{i}", f"盛岡市内丸{i}", f"019-000-000{i}"])
    path = tmp_path / "list.xlsx"
    wb.save(path)
    ing = read_excel(path)
    assert ing.header_rows == [1] and ing.columns == ["名称", "住所", "電話番号"]
    assert ing.table.num_rows == 8


def test_xlsx_two_column_table(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["避難所一覧（模擬データ）"])
    ws.append(["名称", "収容人数"])
    ws.append(["盛岡第一小学校", 300])
    ws.append(["盛岡第二小学校", 250])
    path = tmp_path / "two.xlsx"
    wb.save(path)
    ing = read_excel(path)
    assert ing.header_rows == [2] and ing.columns == ["名称", "収容人数"]
    assert ing.table.column("収容人数").to_pylist() == [300, 250]


def test_xlsx_ruby_text_never_read(tmp_path):
    ing = read_excel(_tiny_xlsx(tmp_path, ruby=True))
    assert "人口_男" in ing.columns
    assert not any("ジンコウ" in c for c in ing.columns)


def test_xlsx_explicit_header_rows_and_bad_sheet(tmp_path):
    path = _tiny_xlsx(tmp_path)
    ing = read_excel(path, header_rows=[2, 3], dtype={"団体コード": "string"})
    assert "人口_男" in ing.columns and ing.header_rows == [2, 3]
    with pytest.raises(IngestError, match="シート番号 3 はありません"):
        read_excel(path, sheet=3)
