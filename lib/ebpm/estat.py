"""e-Stat API 3.0 client: fetch with paging and retries, cache with provenance, parse into tidy frames.

Public API
----------
``get_stats_list(search_word=None, **params) -> dict``
    getStatsList (統計表情報の検索). Cached under ``data/raw/estat/_stats_list/<key>/``.
``get_meta_info(stats_data_id, **params) -> dict``
    getMetaInfo (メタ情報). Cached under ``data/raw/estat/<statsDataId>/``.
``get_stats_data(stats_data_id, paginate=True, **params) -> dict``
    getStatsData (統計データ), following ``RESULT_INF.NEXT_KEY`` until it is absent; the returned
    response has the VALUEs of every page concatenated. Each page is cached as received.
``parse_stats_data(response_or_path) -> pandas.DataFrame``
    One row per VALUE; for each CLASS_OBJ id (``tab``, ``cat01`` …, ``area``, ``time``) the columns
    ``<id>_code``, ``<id>_name``, ``<id>_level`` and ``<id>_parent``; then ``unit``, ``value``
    (``Int64`` when every value is whole, else ``Float64``), ``note`` (the e-Stat symbol ``-``,
    ``…``, ``x``, ``X``, ``***`` … when the value is NULL, never 0) and ``note_text`` (its meaning
    from the response's NOTE list). Table title and notes are in ``DataFrame.attrs``.
``parse_stats_list(...)``, ``parse_meta_info(...)``, ``parse_response(...)``
    Tidy frames for the other endpoints; ``parse_response`` picks the parser from the response.
``read_estat_json(path, **options) -> ebpm.ingest.Ingested``
    Catalog reader ``reader: estat_json``: a cached getStatsData file, or a cache folder
    (all ``getStatsData_p<N>.json`` pages in order), parsed with :func:`parse_stats_data`.

Request options (keyword-only, all functions that call the API): ``cache`` (default True),
``timeout`` seconds (default env ``EBPM_ESTAT_TIMEOUT`` or 60), ``retries`` for HTTP 5xx and
timeouts only (default 2) and ``backoff`` seconds (doubled at each retry, default 1.0). Other keyword
arguments are API parameters, in e-Stat spelling (``cdArea``) or snake_case (``cd_area``).

The appId is read from the environment variable ``ESTAT_APP_ID`` only. It is never logged, cached,
written into an error message or returned: URLs are scrubbed before they appear anywhere.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import json
import logging
import os
import re
import shutil
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ebpm.config import ESTAT_APP_ID_ENV, ESTAT_CREDIT, paths
from ebpm.errors import EstatError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ebpm.ingest import Ingested

log = logging.getLogger(__name__)

BASE_URL = "https://api.e-stat.go.jp/rest/3.0/app/json"
BASE_URL_ENV = "EBPM_ESTAT_BASE_URL"
TIMEOUT_ENV = "EBPM_ESTAT_TIMEOUT"
DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRIES = 2
DEFAULT_BACKOFF = 1.0
MAX_PAGES = 1000

ENDPOINTS: dict[str, str] = {
    "getStatsList": "GET_STATS_LIST",
    "getMetaInfo": "GET_META_INFO",
    "getStatsData": "GET_STATS_DATA",
}
ROOT_KEYS = {v: k for k, v in ENDPOINTS.items()}

LICENCE = "政府標準利用規約（第2.0版）／PDL1.0（CC BY 4.0 互換）"
LICENCE_URL = "https://www.e-stat.go.jp/terms-of-use"
PUBLISHER = "総務省統計局（政府統計の総合窓口 e-Stat）"

# Meanings used when a response has no NOTE list (e-Stat 統計表の記号の凡例).
DEFAULT_NOTES: dict[str, str] = {
    "-": "該当数値がないもの",
    "…": "数値が得られないもの",
    "...": "数値が得られないもの",
    "x": "数値が秘匿されているもの",
    "X": "数値が秘匿されているもの",
    "***": "調査又は集計していないもの",
    "△": "負数",
}

# e-Stat RESULT.STATUS: 0 正常, 1–99 正常（注意あり）, 100 以上 エラー. The server's ERROR_MSG is
# always shown as well, since it is the authoritative wording.
STATUS_HINTS: dict[int, str] = {
    1: "該当データはありません",
    2: "パラメータの一部に誤りがあり、無視されました",
    100: "認証に失敗しました（appId が正しくないか、無効です）。ESTAT_APP_ID の値を確認してください",
    101: "処理が実行中です。しばらく待ってからやり直してください",
    102: "件数が上限を超えました。条件（cdArea など）で絞り込んでください",
}

_APPID_RE = re.compile(r"(appId=)[^&\s'\"]*", re.IGNORECASE)
_PAGE_RE = re.compile(r"^getStatsData_p(\d+)\.json$")


# --------------------------------------------------------------------------- small helpers


def _as_list(value: Any) -> list[Any]:
    """e-Stat sends one item as a dict and several as a list; always return a list."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def _text(value: Any) -> str | None:
    """The text of a ``{"@code": …, "$": text}`` node, or the value itself when it is plain."""
    if isinstance(value, dict):
        value = value.get("$")
    if value is None:
        return None
    return str(value)


def _code(value: Any) -> str | None:
    if isinstance(value, dict):
        code = value.get("@code", value.get("@no"))
        return None if code is None else str(code)
    return None


def _scrub(text: str, app_id: str | None = None) -> str:
    """Remove the appId from any text (URLs, server messages) before it is shown or logged."""
    text = _APPID_RE.sub(r"\1***", text)
    if app_id:
        text = text.replace(app_id, "***")
    return text


def _camel(name: str) -> str:
    """``cd_area`` → ``cdArea``; e-Stat spellings pass unchanged."""
    if "_" not in name:
        return name
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _app_id() -> str:
    value = os.environ.get(ESTAT_APP_ID_ENV, "").strip()
    if not value:
        raise EstatError(
            "e-Stat のアプリケーションID（appId）が設定されていません。"
            "e-Stat のマイページで appId を取得し、環境変数に設定してください"
            f"（例: export {ESTAT_APP_ID_ENV}=取得したID）。appId をファイルやノートブックに"
            "書かないでください。",
            parameter=ESTAT_APP_ID_ENV,
        )
    return value


def _base_url() -> str:
    return os.environ.get(BASE_URL_ENV, BASE_URL).rstrip("/")


def _default_timeout() -> float:
    value = os.environ.get(TIMEOUT_ENV)
    if not value:
        return DEFAULT_TIMEOUT
    try:
        return float(value)
    except ValueError:
        raise EstatError(
            f"タイムアウト秒数「{value}」が数値ではありません。", parameter=TIMEOUT_ENV
        ) from None


def _clean_params(params: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        name = _camel(key)
        if name.lower() == "appid":
            raise EstatError(
                f"appId は引数で渡せません。環境変数 {ESTAT_APP_ID_ENV} に設定してください。",
                parameter="appId",
            )
        if isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        out[name] = str(value)
    return out


# --------------------------------------------------------------------------- HTTP


def _no_proxy_for_loopback(url: str) -> urllib.request.OpenerDirector:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host in {"127.0.0.1", "localhost", "::1"}:
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


def _request_once(endpoint: str, query: dict[str, str], app_id: str, timeout: float) -> bytes:
    url = f"{_base_url()}/{endpoint}?" + urllib.parse.urlencode({"appId": app_id, **query})
    req = urllib.request.Request(url, headers={"Accept": "application/json"})
    with _no_proxy_for_loopback(url).open(req, timeout=timeout) as resp:
        return resp.read()


class _Retryable(Exception):
    """Internal: a 5xx or a timeout (with its Japanese description)."""


def _call(
    endpoint: str,
    query: dict[str, str],
    *,
    what: str,
    timeout: float | None,
    retries: int | None,
    backoff: float | None,
) -> tuple[bytes, dict[str, Any]]:
    """Call one endpoint once (with retries for 5xx/timeouts); return raw bytes and parsed JSON."""
    app_id = _app_id()
    timeout = _default_timeout() if timeout is None else float(timeout)
    retries = DEFAULT_RETRIES if retries is None else int(retries)
    backoff = DEFAULT_BACKOFF if backoff is None else float(backoff)
    if timeout <= 0:
        raise EstatError("タイムアウト秒数は正の数にしてください。", parameter="timeout")
    if retries < 0:
        raise EstatError("再試行回数は 0 以上にしてください。", parameter="retries")
    shown = ", ".join(f"{k}={v}" for k, v in query.items())
    attempt = 0
    while True:
        log.info("e-Stat に問い合わせます: %s (%s)", endpoint, _scrub(shown, app_id))
        try:
            try:
                body = _request_once(endpoint, query, app_id, timeout)
            except urllib.error.HTTPError as err:
                if 500 <= err.code < 600:
                    raise _Retryable(
                        f"e-Stat がサーバーエラー（HTTP {err.code}）を返しました"
                    ) from None
                hint = {
                    400: "リクエストの形式が正しくありません",
                    401: "認証されませんでした（appId を確認してください）",
                    403: "アクセスが拒否されました（appId や利用条件を確認してください）",
                    404: "エンドポイントが見つかりません（EBPM_ESTAT_BASE_URL を確認してください）",
                    429: "アクセスが多すぎます。時間をおいてやり直してください",
                }.get(err.code, "リクエストが拒否されました")
                raise EstatError(
                    f"{what}: e-Stat が HTTP {err.code} を返しました（{hint}）。",
                ) from None
            except TimeoutError:
                raise _Retryable(
                    f"{timeout:g} 秒以内に応答がありませんでした（タイムアウト）"
                ) from None
            except urllib.error.URLError as err:
                if isinstance(err.reason, TimeoutError):
                    raise _Retryable(
                        f"{timeout:g} 秒以内に応答がありませんでした（タイムアウト）"
                    ) from None
                raise EstatError(
                    f"{what}: e-Stat に接続できませんでした（{_scrub(str(err.reason), app_id)}）。"
                    "ネットワークと EBPM_ESTAT_BASE_URL を確認してください。",
                ) from None
            except http.client.IncompleteRead:
                raise EstatError(
                    f"{what}: e-Stat の応答が途中で切れています（受信が完了しませんでした）。"
                    "時間をおいてやり直してください。",
                ) from None
            except (ConnectionError, http.client.HTTPException) as err:
                raise EstatError(
                    f"{what}: e-Stat との通信が途中で失敗しました（{type(err).__name__}）。",
                ) from None
        except _Retryable as err:
            if attempt >= retries:
                raise EstatError(
                    f"{what}: {err}。{attempt + 1} 回試みましたが失敗しました。"
                    "時間をおいてやり直すか、timeout を長くしてください。",
                ) from None
            wait = backoff * (2**attempt)
            attempt += 1
            log.warning("%s。%.2f 秒後に再試行します（%d 回目）", err, wait, attempt)
            time.sleep(wait)
            continue
        return body, _decode(body, endpoint, what, app_id)


def _decode(body: bytes, endpoint: str, what: str, app_id: str) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise EstatError(
            f"{what}: e-Stat の応答が JSON として読めません（壊れているか途中で切れています:"
            f" {len(body)} バイト目付近まで受信, 位置 {getattr(err, 'pos', '?')}）。",
        ) from None
    root_key = ENDPOINTS[endpoint]
    root = data.get(root_key) if isinstance(data, dict) else None
    if not isinstance(root, dict) or not isinstance(root.get("RESULT"), dict):
        raise EstatError(
            f"{what}: e-Stat の応答に {root_key}.RESULT がありません（想定外の形式です）。",
        )
    _check_status(root["RESULT"], what, endpoint, app_id)
    return data


def _check_status(result: dict[str, Any], what: str, endpoint: str, app_id: str) -> None:
    try:
        status = int(result.get("STATUS"))
    except (TypeError, ValueError):
        raise EstatError(
            f"{what}: e-Stat の応答の STATUS が読めません（{result.get('STATUS')!r}）。",
        ) from None
    server = _scrub(str(result.get("ERROR_MSG", "")), app_id)
    if status == 0:
        return
    if status < 100:
        log.warning(
            "%s: %s（STATUS %d: %s）", what, STATUS_HINTS.get(status, "注意"), status, server
        )
        return
    hint = STATUS_HINTS.get(status)
    if hint is None:
        hint = (
            "指定した統計表ID・パラメータを確認してください"
            if status < 200
            else "e-Stat 側のシステムエラーです。時間をおいてやり直してください"
        )
    raise EstatError(
        f"{what}: e-Stat がエラーを返しました（STATUS {status}: {server}）。{hint}。",
    )


# --------------------------------------------------------------------------- cache


def cache_dir(key: str) -> Path:
    """Folder where responses for ``key`` (a statsDataId) are cached: ``<raw>/estat/<key>``."""
    if not re.fullmatch(r"[A-Za-z0-9_\-]+", key):
        raise EstatError(
            f"統計表ID「{key}」に使えない文字が含まれています。", parameter="statsDataId"
        )
    return paths().raw / "estat" / key


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _yaml_dump(data: Any) -> str:
    import yaml

    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


def _write_cache(
    key: str,
    endpoint: str,
    query: dict[str, str],
    pages: list[tuple[int, int, bytes]],
    first: dict[str, Any],
    file_stem: str,
) -> Path:
    """Write pages + request.yml + SOURCE.yml into a staging folder, then swap it in.

    Files of other endpoints already in the folder are carried over; nothing partial is left on error.
    """
    import yaml

    target = cache_dir(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{key}-", dir=target.parent))
    try:
        stale = re.compile(rf"^{re.escape(file_stem)}(_p\d+)?\.json$")
        if target.is_dir():
            for old in target.iterdir():
                if old.is_file() and old.name not in {"SOURCE.yml", "request.yml"}:
                    if not stale.match(old.name):
                        shutil.copy2(old, staging / old.name)
        files = []
        for number, start, body in pages:
            name = (
                f"{file_stem}_p{number}.json"
                if file_stem == "getStatsData"
                else f"{file_stem}.json"
            )
            (staging / name).write_bytes(body)
            files.append(
                {
                    "path": name,
                    "page": number,
                    "start_position": start,
                    "bytes": len(body),
                    "sha256": hashlib.sha256(body).hexdigest(),
                }
            )
        retrieved = datetime.now(UTC).isoformat(timespec="seconds")
        requests: dict[str, Any] = {}
        old_request = target / "request.yml"
        if old_request.is_file():
            loaded = yaml.safe_load(old_request.read_text(encoding="utf-8")) or {}
            requests = dict(loaded.get("requests") or {})
        requests[endpoint] = {
            "endpoint": f"{_base_url()}/{endpoint}",
            "parameters": {k: v for k, v in query.items() if k.lower() != "appid"},
            "retrieved": retrieved,
            "files": files,
        }
        (staging / "request.yml").write_text(
            _yaml_dump({"key": key, "credit": ESTAT_CREDIT, "requests": requests}), encoding="utf-8"
        )
        table = _table_inf(first)
        stat_name = _text(table.get("STAT_NAME")) or "政府統計"
        gov_org = _text(table.get("GOV_ORG")) or "総務省統計局"
        title = " ".join(
            t for t in (_text(table.get("STATISTICS_NAME")), _text(table.get("TITLE"))) if t
        )
        if endpoint == "getStatsList":
            title = f"e-Stat 統計表の検索結果（検索語: {query.get('searchWord', '')}）"
            attribution = "政府統計の総合窓口（e-Stat）の統計表情報を加工して作成。"
        else:
            attribution = f"「{stat_name}」（{gov_org}）を加工して作成（政府統計の総合窓口 e-Stat の API 経由）。"
        source = {
            "source": f"estat/{key}",
            "title_ja": title or f"e-Stat 統計表 {key}",
            "publisher": PUBLISHER,
            "producer": gov_org,
            "licence": LICENCE,
            "licence_url": LICENCE_URL,
            "attribution": attribution + ESTAT_CREDIT,
            "credit": ESTAT_CREDIT,
            "retrieved": retrieved[:10],
            "origin": {"url": _base_url(), "api": "e-Stat API 3.0", "key": key},
            "synthetic": False,
            "files": [
                {
                    "path": p.name,
                    "sha256": _sha256(p),
                    "description_ja": f"e-Stat API {p.name.split('_p')[0].removesuffix('.json')} の応答（受信したままの JSON）",
                }
                for p in sorted(staging.glob("*.json"), key=_page_sort_key)
            ]
            + [
                {
                    "path": "request.yml",
                    "sha256": _sha256(staging / "request.yml"),
                    "description_ja": "リクエスト条件（appId は除く）・取得日時・sha256",
                }
            ],
            "notes_ja": "e-Stat API の応答を受信したまま保存したもの。appId は保存していません。",
        }
        (staging / "SOURCE.yml").write_text(_yaml_dump(source), encoding="utf-8")
        old = None
        if target.exists():
            old = target.parent / f".old-{key}-{os.getpid()}-{time.monotonic_ns()}"
            os.replace(target, old)
        try:
            os.replace(staging, target)
        except OSError:
            if old is not None:
                os.replace(old, target)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return target
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _page_sort_key(path: Path) -> tuple[str, int]:
    match = _PAGE_RE.match(path.name)
    return ("getStatsData", int(match.group(1))) if match else (path.name, 0)


# --------------------------------------------------------------------------- API calls


def _options(kw: dict[str, Any]) -> dict[str, Any]:
    return {k: kw.pop(k) for k in ("timeout", "retries", "backoff") if k in kw}


def get_stats_list(
    search_word: str | None = None, *, cache: bool = True, **params: Any
) -> dict[str, Any]:
    """Search statistical tables (getStatsList).

    Parameters
    ----------
    search_word : str, optional
        Words to search for (``searchWord``); combine words with ``AND``, ``OR``, ``NOT``.
    cache : bool, default True
        Save the response under ``<raw>/estat/_stats_list/<key>/``.
    **params
        Other getStatsList parameters (``statsCode``, ``surveyYears``, ``limit`` …) and the request
        options ``timeout``, ``retries``, ``backoff``.

    Returns
    -------
    dict
        The response JSON as received (use :func:`parse_stats_list` for a tidy frame).
    """
    opts = _options(params)
    query = _clean_params({"lang": "J", **params, "searchWord": search_word})
    body, data = _call("getStatsList", query, what="統計表の検索", **_defaults(opts))
    if cache:
        key = (
            "_stats_list_"
            + hashlib.sha256(
                json.dumps(query, sort_keys=True, ensure_ascii=False).encode()
            ).hexdigest()[:12]
        )
        _write_cache(key, "getStatsList", query, [(1, 1, body)], data, "getStatsList")
    return data


def get_meta_info(stats_data_id: str, *, cache: bool = True, **params: Any) -> dict[str, Any]:
    """Fetch the class definitions of one table (getMetaInfo).

    Parameters
    ----------
    stats_data_id : str
        The 10-digit 統計表ID.
    cache : bool, default True
        Save the response as ``<raw>/estat/<statsDataId>/getMetaInfo.json``.
    **params
        Other parameters and the request options ``timeout``, ``retries``, ``backoff``.

    Returns
    -------
    dict
        The response JSON as received (use :func:`parse_meta_info` for a tidy frame).
    """
    stats_data_id = _check_id(stats_data_id)
    opts = _options(params)
    query = _clean_params({"lang": "J", **params, "statsDataId": stats_data_id})
    body, data = _call(
        "getMetaInfo", query, what=f"統計表ID {stats_data_id} のメタ情報", **_defaults(opts)
    )
    if cache:
        _write_cache(stats_data_id, "getMetaInfo", query, [(1, 1, body)], data, "getMetaInfo")
    return data


def get_stats_data(
    stats_data_id: str, *, cache: bool = True, paginate: bool = True, **params: Any
) -> dict[str, Any]:
    """Fetch statistical data (getStatsData), following NEXT_KEY across pages.

    Parameters
    ----------
    stats_data_id : str
        The 10-digit 統計表ID.
    cache : bool, default True
        Save every page as received under ``<raw>/estat/<statsDataId>/getStatsData_p<N>.json``
        with ``request.yml`` and ``SOURCE.yml``; the folder is replaced only when every page arrived.
    paginate : bool, default True
        Follow ``RESULT_INF.NEXT_KEY`` (as ``startPosition``) until it is absent. With ``False`` only
        the first page (``limit`` rows) is fetched.
    **params
        API parameters (``cdArea``/``cd_area``, ``cdTime``, ``cdCat01``, ``limit`` …) and the request
        options ``timeout``, ``retries``, ``backoff``.

    Returns
    -------
    dict
        The first page's JSON with the VALUEs of all pages concatenated and ``RESULT_INF`` updated
        (``FROM_NUMBER`` of the first, ``TO_NUMBER`` of the last page, no ``NEXT_KEY``).

    Raises
    ------
    EstatError
        On HTTP errors, timeouts after the retries, STATUS ≥ 100, malformed or truncated JSON, or
        paging that does not advance. Nothing is cached then.
    """
    stats_data_id = _check_id(stats_data_id)
    opts = _defaults(_options(params))
    query = _clean_params({"lang": "J", "metaGetFlg": "Y", **params, "statsDataId": stats_data_id})
    what = f"統計表ID {stats_data_id} の統計データ"
    pages: list[tuple[int, int, bytes]] = []
    values: list[Any] = []
    first: dict[str, Any] | None = None
    start = int(query.get("startPosition", 1))
    last_info: dict[str, Any] = {}
    for number in range(1, MAX_PAGES + 1):
        page_query = dict(query)
        if number > 1:
            page_query["startPosition"] = str(start)
        body, data = _call("getStatsData", page_query, what=f"{what}（{number} ページ目）", **opts)
        pages.append((number, start, body))
        stat = data["GET_STATS_DATA"].get("STATISTICAL_DATA") or {}
        info = stat.get("RESULT_INF") or {}
        page_values = _as_list((stat.get("DATA_INF") or {}).get("VALUE"))
        _check_page_complete(info, page_values, what, number)
        values.extend(page_values)
        if first is None:
            first = data
        last_info = info
        next_key = info.get("NEXT_KEY")
        if not paginate or next_key in (None, ""):
            break
        try:
            next_start = int(next_key)
        except (TypeError, ValueError):
            raise EstatError(f"{what}: NEXT_KEY「{next_key}」が整数ではありません。") from None
        if next_start <= start:
            raise EstatError(
                f"{what}: ページ送りが進みません（startPosition={start} の応答の NEXT_KEY が"
                f" {next_start}）。e-Stat の応答が不正です。",
            )
        start = next_start
    else:
        raise EstatError(
            f"{what}: {MAX_PAGES} ページを超えました。条件で絞り込んでください。",
        )
    assert first is not None
    merged = json.loads(json.dumps(first))
    stat = merged["GET_STATS_DATA"].get("STATISTICAL_DATA")
    if stat is not None:
        info = dict(stat.get("RESULT_INF") or {})
        info.pop("NEXT_KEY", None)
        if "TO_NUMBER" in last_info:
            info["TO_NUMBER"] = last_info["TO_NUMBER"]
        if not paginate and last_info.get("NEXT_KEY") not in (None, ""):
            info["NEXT_KEY"] = last_info["NEXT_KEY"]
        stat["RESULT_INF"] = info
        if stat.get("DATA_INF") is not None:
            stat["DATA_INF"]["VALUE"] = values
    if cache:
        _write_cache(stats_data_id, "getStatsData", query, pages, first, "getStatsData")
    log.info("%s: %d ページ・%d 件を取得しました", what, len(pages), len(values))
    return merged


def _defaults(opts: dict[str, Any]) -> dict[str, Any]:
    return {
        "timeout": opts.get("timeout"),
        "retries": opts.get("retries"),
        "backoff": opts.get("backoff"),
    }


def _check_id(stats_data_id: str) -> str:
    value = str(stats_data_id).strip()
    if not re.fullmatch(r"[0-9A-Za-z]{1,20}", value):
        raise EstatError(
            f"統計表ID「{stats_data_id}」の形式が正しくありません（例: 0003433219）。",
            parameter="statsDataId",
        )
    return value


def _check_page_complete(info: dict[str, Any], values: list[Any], what: str, number: int) -> None:
    """A page whose VALUE count disagrees with FROM_NUMBER..TO_NUMBER was cut short."""
    try:
        expected = int(info["TO_NUMBER"]) - int(info["FROM_NUMBER"]) + 1
    except (KeyError, TypeError, ValueError):
        return
    if expected != len(values):
        raise EstatError(
            f"{what}（{number} ページ目）: 応答の件数が合いません（FROM_NUMBER〜TO_NUMBER は"
            f" {expected} 件、VALUE は {len(values)} 件）。応答が途中で切れている可能性があります。",
        )


# --------------------------------------------------------------------------- parsing


def _load(response_or_path: Any) -> dict[str, Any]:
    if isinstance(response_or_path, Mapping):
        return dict(response_or_path)
    path = Path(response_or_path)
    if path.is_dir():
        return _load_pages(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EstatError("ファイルが見つかりません。", file=str(path)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise EstatError(
            f"e-Stat API の JSON 応答として読めません（壊れているか途中で切れているか、JSON 以外の"
            f"ファイルです: {err}）。",
            file=str(path),
        ) from None


def _load_pages(folder: Path) -> dict[str, Any]:
    pages = sorted(
        (p for p in folder.glob("getStatsData_p*.json") if _PAGE_RE.match(p.name)),
        key=_page_sort_key,
    )
    if not pages:
        raise EstatError("getStatsData_p<N>.json が見つかりません。", file=str(folder))
    merged = _load(pages[0])
    values: list[Any] = []
    for page in pages:
        data = _load(page)
        stat = (data.get("GET_STATS_DATA") or {}).get("STATISTICAL_DATA") or {}
        values.extend(_as_list((stat.get("DATA_INF") or {}).get("VALUE")))
    stat = (merged.get("GET_STATS_DATA") or {}).get("STATISTICAL_DATA")
    if stat is not None and stat.get("DATA_INF") is not None:
        stat["DATA_INF"]["VALUE"] = values
    return merged


def _root(data: dict[str, Any], expected: str, where: str) -> dict[str, Any]:
    root = data.get(expected) if isinstance(data, dict) else None
    if not isinstance(root, dict):
        found = ", ".join(map(str, data)) if isinstance(data, dict) else type(data).__name__
        raise EstatError(
            f"{expected} の応答ではありません（最上位のキー: {found}）。", file=where or None
        )
    return root


def _table_inf(data: dict[str, Any]) -> dict[str, Any]:
    for root_key in ENDPOINTS.values():
        root = data.get(root_key)
        if isinstance(root, dict):
            for box in ("STATISTICAL_DATA", "METADATA_INF"):
                if isinstance(root.get(box), dict):
                    table = root[box].get("TABLE_INF")
                    return table if isinstance(table, dict) else {}
    return {}


def _table_attrs(table: dict[str, Any]) -> dict[str, Any]:
    return {
        "stats_data_id": table.get("@id"),
        "stat_name": _text(table.get("STAT_NAME")),
        "gov_org": _text(table.get("GOV_ORG")),
        "statistics_name": _text(table.get("STATISTICS_NAME")),
        "title": _text(table.get("TITLE")),
        "survey_date": _text(table.get("SURVEY_DATE")),
        "open_date": _text(table.get("OPEN_DATE")),
        "updated_date": _text(table.get("UPDATED_DATE")),
        "collect_area": _text(table.get("COLLECT_AREA")),
        "source": "政府統計の総合窓口（e-Stat）",
        "licence": LICENCE,
        "credit": ESTAT_CREDIT,
    }


def _level(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _classes(class_inf: Any) -> list[dict[str, Any]]:
    objs = _as_list((class_inf or {}).get("CLASS_OBJ")) if isinstance(class_inf, dict) else []
    out = []
    for obj in objs:
        classes = {}
        for item in _as_list(obj.get("CLASS")):
            code = str(item.get("@code"))
            classes[code] = {
                "name": item.get("@name"),
                "level": _level(item.get("@level")),
                "parent": item.get("@parentCode"),
                "unit": item.get("@unit"),
            }
        out.append({"id": str(obj.get("@id")), "name": obj.get("@name"), "classes": classes})
    return out


def _number(text: str) -> int | float | None:
    cleaned = text.strip().replace(",", "")
    if re.fullmatch(r"[+-]?\d+", cleaned):
        return int(cleaned)
    if re.fullmatch(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?", cleaned):
        return float(cleaned)
    return None


def parse_stats_data(response_or_path: Any) -> pd.DataFrame:
    """Turn a getStatsData response into a tidy frame (one row per VALUE).

    Parameters
    ----------
    response_or_path : dict, str or Path
        The response JSON (as returned by :func:`get_stats_data`), a saved response file, or a cache
        folder holding ``getStatsData_p<N>.json`` pages.

    Returns
    -------
    pandas.DataFrame
        Columns ``<id>_code``, ``<id>_name``, ``<id>_level``, ``<id>_parent`` for each CLASS_OBJ id in
        the response's order, then ``unit``, ``value`` (``Int64`` or ``Float64``), ``note`` (e-Stat
        symbol when the value is NULL) and ``note_text`` (its meaning); ``annotation`` when the
        response has VALUE annotations. ``attrs`` holds the table title, the NOTE list
        (``notes``), class names, ``normalised`` (Japanese sentences) and the credit line.
    """
    import pandas as pd

    where = "" if isinstance(response_or_path, Mapping) else str(response_or_path)
    data = _load(response_or_path)
    root = _root(data, "GET_STATS_DATA", where)
    stat = root.get("STATISTICAL_DATA") or {}
    table = stat.get("TABLE_INF") or {}
    class_objs = _classes(stat.get("CLASS_INF"))
    data_inf = stat.get("DATA_INF") or {}
    notes = dict(DEFAULT_NOTES)
    response_notes = {}
    for note in _as_list(data_inf.get("NOTE")):
        if isinstance(note, dict) and note.get("@char") is not None:
            response_notes[str(note["@char"])] = _text(note) or ""
    notes.update(response_notes)
    values = _as_list(data_inf.get("VALUE"))

    class_ids = [c["id"] for c in class_objs]
    extra_ids: list[str] = []
    for item in values[:1] + values[-1:]:
        for key in item if isinstance(item, dict) else ():
            name = key[1:] if key.startswith("@") else None
            if (
                name
                and name not in class_ids
                and name not in extra_ids
                and name
                not in (
                    "unit",
                    "annotation",
                )
            ):
                extra_ids.append(name)
    columns: dict[str, list[Any]] = {}
    for cid in class_ids + extra_ids:
        for suffix in ("code", "name", "level", "parent"):
            columns[f"{cid}_{suffix}"] = []
    units: list[Any] = []
    raw_values: list[Any] = []
    note_col: list[Any] = []
    note_text: list[Any] = []
    annotations: list[Any] = []
    lookup = {c["id"]: c["classes"] for c in class_objs}
    symbol_counts: dict[str, int] = {}
    for item in values:
        if not isinstance(item, dict):
            item = {"$": item}
        unit = item.get("@unit")
        for cid in class_ids + extra_ids:
            code = item.get(f"@{cid}")
            info = lookup.get(cid, {}).get(str(code)) if code is not None else None
            columns[f"{cid}_code"].append(None if code is None else str(code))
            columns[f"{cid}_name"].append(info["name"] if info else None)
            columns[f"{cid}_level"].append(info["level"] if info else None)
            columns[f"{cid}_parent"].append(info["parent"] if info else None)
            if unit is None and info and info.get("unit"):
                unit = info["unit"]
        units.append(unit)
        annotations.append(item.get("@annotation"))
        text = item.get("$")
        number = _number(str(text)) if text is not None else None
        if number is None:
            symbol = "" if text is None else str(text).strip()
            raw_values.append(None)
            note_col.append(symbol or None)
            note_text.append(notes.get(symbol, "数値が得られないもの" if not symbol else None))
            symbol_counts[symbol] = symbol_counts.get(symbol, 0) + 1
        else:
            raw_values.append(number)
            note_col.append(None)
            note_text.append(None)

    frame = pd.DataFrame(columns)
    for cid in class_ids + extra_ids:
        for suffix in ("code", "name", "parent"):
            frame[f"{cid}_{suffix}"] = frame[f"{cid}_{suffix}"].astype("string")
        frame[f"{cid}_level"] = frame[f"{cid}_level"].astype("Int64")
    frame["unit"] = pd.array(units, dtype="string")
    whole = all(isinstance(v, int) for v in raw_values if v is not None)
    frame["value"] = pd.array(raw_values, dtype="Int64" if whole else "Float64")
    frame["note"] = pd.array(note_col, dtype="string")
    frame["note_text"] = pd.array(note_text, dtype="string")
    if any(a is not None for a in annotations):
        frame["annotation"] = pd.array(annotations, dtype="string")

    normalised = []
    for symbol, count in sorted(symbol_counts.items()):
        shown = symbol or "（空欄）"
        normalised.append(
            f"記号「{shown}」の {count} 件を欠損値にし、理由を note 列に残しました"
            f"（{notes.get(symbol, '意味不明の記号')}）。"
        )
    if extra_ids:
        normalised.append(
            "CLASS_INF に定義のない分類 " + "・".join(extra_ids) + " はコードのみです。"
        )
    result = stat.get("RESULT_INF") or {}
    frame.attrs.update(_table_attrs(table))
    frame.attrs.update(
        {
            "endpoint": "getStatsData",
            "notes": response_notes,
            "classes": {c["id"]: c["name"] for c in class_objs},
            "total_number": result.get("TOTAL_NUMBER"),
            "next_key": result.get("NEXT_KEY"),
            "normalised": normalised,
            "symbols": {k: v for k, v in symbol_counts.items()},
        }
    )
    return frame


def parse_stats_list(response_or_path: Any) -> pd.DataFrame:
    """Turn a getStatsList response into a frame with one row per table (TABLE_INF).

    Returns
    -------
    pandas.DataFrame
        ``stats_data_id``, ``stat_code``, ``stat_name``, ``gov_org_code``, ``gov_org``,
        ``statistics_name``, ``title_no``, ``title``, ``cycle``, ``survey_date``, ``open_date``,
        ``small_area``, ``collect_area``, ``main_category``, ``sub_category``,
        ``overall_total_number``, ``updated_date``; ``attrs`` holds ``number`` (hits),
        ``next_key`` and the credit line.
    """
    import pandas as pd

    where = "" if isinstance(response_or_path, Mapping) else str(response_or_path)
    root = _root(_load(response_or_path), "GET_STATS_LIST", where)
    box = root.get("DATALIST_INF") or {}
    rows = []
    for t in _as_list(box.get("TABLE_INF")):
        rows.append(
            {
                "stats_data_id": t.get("@id"),
                "stat_code": _code(t.get("STAT_NAME")),
                "stat_name": _text(t.get("STAT_NAME")),
                "gov_org_code": _code(t.get("GOV_ORG")),
                "gov_org": _text(t.get("GOV_ORG")),
                "statistics_name": _text(t.get("STATISTICS_NAME")),
                "title_no": _code(t.get("TITLE")),
                "title": _text(t.get("TITLE")),
                "cycle": _text(t.get("CYCLE")),
                "survey_date": _text(t.get("SURVEY_DATE")),
                "open_date": _text(t.get("OPEN_DATE")),
                "small_area": _text(t.get("SMALL_AREA")),
                "collect_area": _text(t.get("COLLECT_AREA")),
                "main_category": _text(t.get("MAIN_CATEGORY")),
                "sub_category": _text(t.get("SUB_CATEGORY")),
                "overall_total_number": _level(t.get("OVERALL_TOTAL_NUMBER")),
                "updated_date": _text(t.get("UPDATED_DATE")),
            }
        )
    columns = [
        "stats_data_id", "stat_code", "stat_name", "gov_org_code", "gov_org", "statistics_name",
        "title_no", "title", "cycle", "survey_date", "open_date", "small_area", "collect_area",
        "main_category", "sub_category", "overall_total_number", "updated_date",
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns)
    for col in columns:
        frame[col] = frame[col].astype("Int64" if col == "overall_total_number" else "string")
    info = box.get("RESULT_INF") or {}
    frame.attrs.update(
        {
            "endpoint": "getStatsList",
            "number": _level(box.get("NUMBER")),
            "next_key": info.get("NEXT_KEY"),
            "search_word": (root.get("PARAMETER") or {}).get("SEARCH_WORD"),
            "source": "政府統計の総合窓口（e-Stat）",
            "credit": ESTAT_CREDIT,
        }
    )
    return frame


def parse_meta_info(response_or_path: Any) -> pd.DataFrame:
    """Turn a getMetaInfo response into a frame with one row per class item (CLASS).

    Returns
    -------
    pandas.DataFrame
        ``class_id``, ``class_name``, ``code``, ``name``, ``level``, ``parent_code``, ``unit``;
        ``attrs`` holds the table title and the credit line.
    """
    import pandas as pd

    where = "" if isinstance(response_or_path, Mapping) else str(response_or_path)
    root = _root(_load(response_or_path), "GET_META_INFO", where)
    box = root.get("METADATA_INF") or {}
    rows = []
    for obj in _classes(box.get("CLASS_INF")):
        for code, info in obj["classes"].items():
            rows.append(
                {
                    "class_id": obj["id"],
                    "class_name": obj["name"],
                    "code": code,
                    "name": info["name"],
                    "level": info["level"],
                    "parent_code": info["parent"],
                    "unit": info["unit"],
                }
            )
    columns = ["class_id", "class_name", "code", "name", "level", "parent_code", "unit"]
    frame = pd.DataFrame(rows, columns=columns)
    for col in columns:
        frame[col] = frame[col].astype("Int64" if col == "level" else "string")
    frame.attrs.update(_table_attrs(box.get("TABLE_INF") or {}))
    frame.attrs["endpoint"] = "getMetaInfo"
    return frame


def parse_response(response_or_path: Any) -> pd.DataFrame:
    """Parse any of the three responses, choosing the parser from its top-level key."""
    where = "" if isinstance(response_or_path, Mapping) else str(response_or_path)
    data = _load(response_or_path)
    for root_key, parser in (
        ("GET_STATS_DATA", parse_stats_data),
        ("GET_STATS_LIST", parse_stats_list),
        ("GET_META_INFO", parse_meta_info),
    ):
        if isinstance(data, dict) and root_key in data:
            return parser(data)
    found = ", ".join(map(str, data)) if isinstance(data, dict) else type(data).__name__
    raise EstatError(
        "e-Stat API の応答（GET_STATS_DATA / GET_STATS_LIST / GET_META_INFO）ではありません"
        f"（最上位のキー: {found}）。",
        file=where or None,
    )


def read_estat_json(path: str | Path, **options: Any) -> Ingested:
    """Catalog reader ``reader: estat_json``: parse a cached getStatsData response.

    Parameters
    ----------
    path : str or Path
        A saved getStatsData JSON file, or a cache folder ``<raw>/estat/<statsDataId>`` (all its
        ``getStatsData_p<N>.json`` pages are read in page order).
    **options
        None are accepted yet; an unknown option raises :class:`EstatError` naming it.

    Returns
    -------
    ebpm.ingest.Ingested
        ``frame`` is :func:`parse_stats_data`'s frame (its ``attrs`` keep the title and credit),
        ``notes`` the Japanese normalisation sentences, ``units`` ``{"value": unit}`` when the unit
        is the same on every row, ``symbols`` ``{"value": {symbol: count}}``.
    """
    from ebpm.ingest import Ingested

    if options:
        name = sorted(options)[0]
        raise EstatError(
            f"estat_json 読み込みにオプション「{name}」は指定できません。",
            file=str(path),
            parameter=name,
        )
    frame = parse_stats_data(path)
    units = frame["unit"].dropna().unique().tolist()
    types = {c: ("integer" if str(t) == "Int64" else "number" if str(t) == "Float64" else "string")
             for c, t in frame.dtypes.items()}  # fmt: skip
    info = {
        "notes": list(frame.attrs.get("normalised", [])),
        "encoding": "utf-8",
        "units": {"value": units[0]} if len(units) == 1 else {},
        "symbols": {"value": dict(frame.attrs["symbols"])} if frame.attrs.get("symbols") else {},
        "types": types,
        "path": str(path),
    }
    fields = {f.name for f in dataclasses.fields(Ingested)}
    if "table" in fields:  # Ingested holds a pyarrow table; the frame (with attrs) is kept as well
        return Ingested(table=_arrow_table(frame), _frame=frame, **info)
    return Ingested(frame=frame, **info)


def _arrow_table(frame: pd.DataFrame):
    """The frame as a pyarrow table with plain ``string``/``int64``/``double`` columns."""
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False)
    schema = pa.schema(
        [
            pa.field(f.name, pa.string() if pa.types.is_large_string(f.type) else f.type)
            for f in table.schema
        ]
    )
    return table.cast(schema).replace_schema_metadata(None)
