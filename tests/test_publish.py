"""ebpm publish: standard open datasets validated by Frictionless; broken sources are refused."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ebpm.errors import PublishError
from ebpm.publish.text import platform_dependent

# one worker builds the release fixture once instead of each worker
pytestmark = pytest.mark.xdist_group("publish")

ROOT = Path(__file__).resolve().parents[1]
STANDARDS = ROOT / "lib" / "ebpm" / "publish" / "standards"
TABLES = ["municipality", "shelter", "population_by_age", "resident_population"]
DATASETS = ["evacuation_space", "population", "opendata_list"]
BIN = Path(sys.executable).parent


def _standard_header(key: str) -> list[str]:
    """The header row read straight from the copied definition files (not through ebpm)."""
    if key == "evacuation_space":
        with open(
            STANDARDS / "evacuation_space_header_as_used_by_third_party.csv", encoding="utf-8"
        ) as fh:
            return [r["field"] for r in csv.DictReader(fh)]
    name = {
        "population": "cio_11_population_model.yaml",
        "opendata_list": "cio_14_opendata_list_model.yaml",
    }
    text = (STANDARDS / name[key]).read_text(encoding="utf-8")
    model = yaml.load(text, Loader=yaml.BaseLoader)
    (schema,) = model["components"]["schemas"].values()
    return [k for k, v in schema["properties"].items() if v.get("type") != "object"]


# --------------------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("盛岡市内丸12-2", []),
        ("①番地", ["①"]),
        ("㈱盛岡", ["㈱"]),
        ("令和㋿", ["㋿"]),
        ("9:00〜17:00", ["〜"]),
        ("３～５階", ["～"]),
        ("ﾓﾘｵｶ", ["ﾓ", "ﾘ", "ｵ", "ｶ"]),
        ("Ⅲ期", ["Ⅲ"]),
        ("100㎡", ["㎡"]),
        ("髙橋", []),  # a 異体字 is a proper name, not a platform-dependent character in UTF-8
    ],
)
def test_platform_dependent_characters(text, found):
    assert [ch for ch, _ in platform_dependent(text)] == found


def test_headers_have_the_standard_lengths():
    # 指定緊急避難場所一覧 39 columns (current form); 推奨データセット 11: 47 items; 14: 15 items
    assert [len(_standard_header(k)) for k in DATASETS] == [39, 47, 15]


# --------------------------------------------------------------------------- releases


@pytest.fixture(scope="module")
def curated(tmp_path_factory):
    """A curated database with the four tables the releases read, built by `ebpm build`."""
    base = tmp_path_factory.mktemp("publish")
    catalog, cur = base / "catalog", base / "curated"
    catalog.mkdir()
    for name in TABLES:
        shutil.copy(ROOT / "data" / "catalog" / f"{name}.yml", catalog / f"{name}.yml")
    env = {"EBPM_CATALOG": str(catalog), "EBPM_CURATED": str(cur)}
    done = subprocess.run(
        [str(BIN / "ebpm"), "build", "-q"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        yield base


@pytest.fixture(scope="module")
def released(curated):
    from ebpm.publish import publish

    out = curated / "published"
    results = {key: publish(key, out=out) for key in DATASETS}
    return out, results


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
@pytest.mark.parametrize("key", DATASETS)
def test_release_validates_with_frictionless_and_has_the_standard_header(released, key):
    out, results = released
    folder = out / key
    csv_file = folder / f"032018_{key}.csv"
    assert csv_file.exists(), sorted(p.name for p in folder.iterdir())
    # Frictionless's own validate() (the library behind its CLI; ebpm's wrapper is not involved),
    # in this process: the CLI would spend about 3 s per dataset importing the same library
    from frictionless import validate

    report = validate(str(folder / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:20]
    raw = csv_file.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, as declared
    assert raw.count(b"\r\n") == raw.count(b"\n")  # CRLF only
    with open(csv_file, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == _standard_header(key)
    assert len(rows) - 1 == results[key]["rows"] > 0
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    assert package["licenses"][0]["name"] == "CC-BY-4.0"
    assert package["ebpm"]["build_id"] == results[key]["build_id"]
    assert package["resources"][0]["encoding"] == "utf-8-sig"
    names = [f["name"] for f in package["resources"][0]["schema"]["fields"]]
    assert names == _standard_header(key)


@pytest.mark.slow
def test_release_contents(released):
    out, _ = released
    with open(out / "evacuation_space" / "032018_evacuation_space.csv", encoding="utf-8-sig") as fh:
        shelters = list(csv.DictReader(fh))
    # 245 designated emergency evacuation sites (国土地理院, 盛岡市提供; the catalog check says the same)
    assert len(shelters) == 245
    assert {r["全国地方公共団体コード"] for r in shelters} == {"032018"}
    assert all(r["所在地_連結表記"].startswith("岩手県盛岡市") for r in shelters)
    assert {r["災害種別_洪水"] for r in shelters} <= {"1", ""}
    with open(out / "population" / "032018_population.csv", encoding="utf-8-sig") as fh:
        (morioka,) = list(csv.DictReader(fh))
    # 総務省 住民基本台帳 令和4年1月1日 (2204ssnen.xlsx) 盛岡市 計 = 285,270
    assert morioka["総人口"] == "285270" and morioka["地域コード"] == "032018"
    assert int(morioka["男性"]) + int(morioka["女性"]) == 285270
    log = [json.loads(x) for x in (out / "publication_log.jsonl").read_text().splitlines()]
    assert [e["dataset"] for e in log] == DATASETS
    index = (out / "index.html").read_text(encoding="utf-8")
    for title in ("指定緊急避難場所一覧", "地域・年齢別人口", "オープンデータ一覧"):
        assert title in index
    assert 'href="evacuation_space/032018_evacuation_space.csv"' in index and "CC BY 4.0" in index
    # the suppression audit is kept out of every public dataset folder
    assert not any("audit" in p.name for key in DATASETS for p in (out / key).iterdir())


def _broken(monkeypatch, key: str, change) -> None:
    from ebpm.publish import datasets

    original = datasets.EXTRACTORS[key]

    def extractor(std, ctx):
        frame = original(std, ctx)
        change(frame)
        return frame

    monkeypatch.setitem(datasets.EXTRACTORS, key, extractor)


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.name: _sha(p) for p in folder.iterdir()} | {"->": os.readlink(folder)}


def _run_cli(args: list[str], capsys) -> tuple[int, str]:
    from ebpm import cli

    old = sys.argv
    sys.argv = ["ebpm", *args]
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = old
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.slow
def test_lost_leading_zero_is_refused_and_previous_release_stays(released, monkeypatch, capsys):
    out, _ = released
    before = _snapshot(out / "evacuation_space")
    releases_before = sorted((out / ".releases" / "evacuation_space").iterdir())

    def lose_zero(frame):
        frame.loc[4, "全国地方公共団体コード"] = "32018"  # 032018 read as a number somewhere

    _broken(monkeypatch, "evacuation_space", lose_zero)
    code, text = _run_cli(["publish", "evacuation_space", "--out", str(out)], capsys)
    assert code == 1
    flat = "".join(text.split())  # rich may wrap the message anywhere at the console's width
    assert "Frictionlessの検証に通らない" in flat
    assert "032018_evacuation_space.csv" in flat and "6行目" in flat
    assert "全国地方公共団体コード" in flat and "32018" in flat
    assert _snapshot(out / "evacuation_space") == before
    assert sorted((out / ".releases" / "evacuation_space").iterdir()) == releases_before


@pytest.mark.slow
def test_platform_dependent_character_is_refused_and_previous_release_stays(released, monkeypatch):
    from ebpm.publish import publish

    out, _ = released
    before = _snapshot(out / "evacuation_space")

    def add_chars(frame):
        frame.loc[0, "名称"] = "㈱盛岡ホール"
        frame.loc[2, "備考"] = "収容①"

    _broken(monkeypatch, "evacuation_space", add_chars)
    with pytest.raises(PublishError) as info:
        publish("evacuation_space", out=out)
    problems = info.value.problems
    assert any("2行目" in p and "列「名称」" in p and "㈱" in p for p in problems), problems
    assert any("4行目" in p and "列「備考」" in p and "①" in p for p in problems), problems
    assert _snapshot(out / "evacuation_space") == before


@pytest.mark.slow
def test_small_counts_are_suppressed_with_an_audit(released, monkeypatch):
    from ebpm.publish import publish

    out, _ = released

    def small(frame):
        frame["85歳以上の男性"] = frame["85歳以上の男性"].astype("Int64")
        frame.loc[0, "85歳以上の男性"] = 3  # a count below the threshold (10) in the catalog

    _broken(monkeypatch, "population", small)
    result = publish("population", out=out / "iwate", areas="03")
    assert result["rows"] == 33  # Iwate's 33 municipalities
    assert result["suppressed"] >= 2  # the small cell and at least one complement (二次秘匿)
    with open(out / "iwate" / "population" / "032018_population.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["85歳以上の男性"] == "x"
    assert "3" not in {r["85歳以上の男性"] for r in rows}
    audit = Path(result["audit"]).read_text(encoding="utf-8")
    assert "一次秘匿" in audit and "二次秘匿" in audit
    done = subprocess.run(
        [str(BIN / "frictionless"), "validate", "datapackage.json"],
        cwd=out / "iwate" / "population",
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:]


@pytest.mark.slow
def test_unknown_dataset_and_synthetic_sources_are_refused(released, monkeypatch):
    from ebpm.publish import publish, release

    out, _ = released
    with pytest.raises(PublishError, match="選べるもの"):
        publish("../../etc/passwd", out=out)
    monkeypatch.setattr(
        "ebpm.data.access.table_info", lambda name: {"synthetic": True, "sources": []}
    )
    with pytest.raises(PublishError, match="模擬データ"):
        release._sources(release.find_standard("population"))


@pytest.mark.slow
def test_broken_raw_source_is_refused_and_previous_release_stays(released, tmp_path, monkeypatch):
    """A platform-dependent character that arrives in the raw file itself (not injected later)."""
    out, _ = released
    before = _snapshot(out / "evacuation_space")
    raw = tmp_path / "raw"
    raw.mkdir()
    for source in ("abr_address_master", "municipality_changes", "iwate_estat_municipal"):
        (raw / source).symlink_to(ROOT / "data" / "raw" / source)
    shutil.copytree(ROOT / "data" / "raw" / "gsi_shelters_morioka", raw / "gsi_shelters_morioka")
    geo = raw / "gsi_shelters_morioka" / "emergency_032018.json"
    text = geo.read_text(encoding="utf-8")
    assert "県営運動公園" in text
    geo.write_text(text.replace("県営運動公園", "㈱県営運動公園①", 1), encoding="utf-8")
    meta = raw / "gsi_shelters_morioka" / "SOURCE.yml"
    spec = yaml.safe_load(meta.read_text(encoding="utf-8"))
    for entry in spec["files"]:
        if entry["path"] == geo.name:
            entry["sha256"] = _sha(geo)
            entry["bytes"] = geo.stat().st_size
    meta.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    catalog, cur = tmp_path / "catalog", tmp_path / "curated"
    catalog.mkdir()
    cur.mkdir()
    for name in ("municipality", "shelter"):
        shutil.copy(ROOT / "data" / "catalog" / f"{name}.yml", catalog / f"{name}.yml")
    env = {"EBPM_RAW": str(raw), "EBPM_CATALOG": str(catalog), "EBPM_CURATED": str(cur)}
    done = subprocess.run(
        [str(BIN / "ebpm"), "build", "-q"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from ebpm.publish import publish

    with pytest.raises(PublishError) as info:
        publish("evacuation_space", out=out)
    text = str(info.value)
    assert "032018_evacuation_space.csv" in text and "列「名称」" in text
    assert "㈱" in text and "①" in text and "行目" in text
    assert _snapshot(out / "evacuation_space") == before
