"""e-Stat API 3.0 client: fetch with paging and retries, cache with provenance, parse into tidy frames.

Public API
----------
``get_stats_list(search_word=None, **params) -> dict``
    getStatsList (統計表情報の検索). Cached under ``data/raw/estat/_stats_list_<key>/``.
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
``read_estat_json(path, **options) -> ebpm.ingest.read.Ingested``
    Catalog reader ``reader: estat_json``: a cached getStatsData file, or a cache folder
    (all ``getStatsData_p<N>.json`` pages in order), parsed with :func:`parse_stats_data`.

Request options (keyword-only, all functions that call the API): ``cache`` (default True),
``timeout`` seconds (default env ``EBPM_ESTAT_TIMEOUT`` or 60), ``retries`` for HTTP 5xx and
timeouts only (default 2) and ``backoff`` seconds (doubled at each retry, default 1.0). Other keyword
arguments are API parameters, in e-Stat spelling (``cdArea``) or snake_case (``cd_area``).

The appId is read from the environment variable ``ESTAT_APP_ID`` only. It is never logged, cached,
written into an error message or returned: URLs are scrubbed before they appear anywhere.

Parsing lives in :mod:`ebpm.estat.parse` and the raw-data cache in :mod:`ebpm.estat.cache`; their
public names are re-exported here.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from ebpm.config import ESTAT_APP_ID_ENV
from ebpm.errors import EstatError
from ebpm.estat.cache import cache_dir, write_cache
from ebpm.estat.parse import (
    ENDPOINTS,
    _as_list,
    parse_meta_info,
    parse_response,
    parse_stats_data,
    parse_stats_list,
    read_estat_json,
)

__all__ = [
    "cache_dir",
    "get_meta_info",
    "get_stats_data",
    "get_stats_list",
    "parse_meta_info",
    "parse_response",
    "parse_stats_data",
    "parse_stats_list",
    "read_estat_json",
]

log = logging.getLogger(__name__)

BASE_URL = "https://api.e-stat.go.jp/rest/3.0/app/json"
BASE_URL_ENV = "EBPM_ESTAT_BASE_URL"
TIMEOUT_ENV = "EBPM_ESTAT_TIMEOUT"
DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRIES = 2
DEFAULT_BACKOFF = 1.0
MAX_PAGES = 1000

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


# --------------------------------------------------------------------------- small helpers


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
        Save the response under ``<raw>/estat/_stats_list_<key>/`` (key: hash of the parameters).
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
        write_cache(key, _base_url(), "getStatsList", query, [(1, 1, body)], data, "getStatsList")
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
        write_cache(
            stats_data_id, _base_url(), "getMetaInfo", query, [(1, 1, body)], data, "getMetaInfo"
        )
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
        write_cache(stats_data_id, _base_url(), "getStatsData", query, pages, first, "getStatsData")
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
