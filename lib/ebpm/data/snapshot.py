"""Publishing a build safely: one build at a time, temp files, fsync + os.replace, metadata, manifest repair."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ebpm import config
from ebpm.data.spec import TableSpec, load_catalog
from ebpm.errors import BuildError, EbpmError
from ebpm.data.staging import first_row

PAUSE_ENV = "EBPM_BUILD_PAUSE_AT"  # test hook: sleep at this stage so a test can SIGKILL the build
PAUSE_SECONDS_ENV = "EBPM_BUILD_PAUSE_SECONDS"
STAGES = ("catalog", "table", "metadata", "before_swap", "after_swap", "done")
TMP_PREFIX = ".ebpm-build-"
LOCK_NAME = ".ebpm-build.lock"


def pause(stage: str) -> None:
    """Test hook: at ``$EBPM_BUILD_PAUSE_AT`` say so on stderr and sleep, so a test can SIGKILL here."""
    if os.environ.get(PAUSE_ENV) == stage:
        print(f"EBPM_BUILD_PAUSED {stage}", file=sys.stderr, flush=True)
        time.sleep(float(os.environ.get(PAUSE_SECONDS_ENV, "120")))


def code_version(root: Path) -> str:
    """``git describe --always --dirty`` of the project, or the package version outside git."""
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        )
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    from ebpm import __version__

    return f"ebpm {__version__}"


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file next to ``path``, fsync it, then ``os.replace``."""
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}.{secrets.token_hex(4)}")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


@contextlib.contextmanager
def build_lock(curated: Path) -> Iterator[None]:
    """One build at a time per curated folder (released by the OS even after SIGKILL)."""
    fh = open(curated / LOCK_NAME, "a+")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BuildError(
                "別のデータ構築（ebpm build）が実行中です。終わってから再実行してください。"
            ) from exc
        yield
    finally:
        fh.close()


def clean_stale(curated: Path) -> None:
    """Remove temporary files left by a killed build (only ours: the .ebpm-build- prefix)."""
    for path in curated.glob(f"{TMP_PREFIX}*"):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def read_embedded_manifest(database: Path) -> dict[str, Any] | None:
    """The manifest stored inside a snapshot (table ``_ebpm_build``), or None."""
    import duckdb

    if not database.exists():
        return None
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH '{str(database).replace(chr(39), chr(39) * 2)}' AS snap (READ_ONLY)")
        row = first_row(con.execute("SELECT manifest FROM snap._ebpm_build LIMIT 1"))
        return json.loads(row[0]) if row else None
    except duckdb.Error:
        return None
    finally:
        con.close()


def repair_manifest(paths: config.Paths) -> bool:
    """Rewrite manifest.json from the snapshot when a build was killed between the two swaps.

    The database is the truth: it embeds its own manifest. Returns True when a repair was made.
    """
    try:  # manifest.json is written after the database is swapped in: newer means consistent
        if paths.manifest.stat().st_mtime_ns >= paths.database.stat().st_mtime_ns:
            return False
    except FileNotFoundError:
        pass
    embedded = read_embedded_manifest(paths.database)
    if embedded is None:
        return False
    try:
        current = json.loads(paths.manifest.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        current = None
    if current and current.get("build_id") == embedded.get("build_id"):
        return False
    atomic_write_text(paths.manifest, json.dumps(embedded, ensure_ascii=False, indent=2))
    try:  # the dictionary of the killed build was never written either
        from ebpm.data.dictionary import render_dictionary

        atomic_write_text(
            paths.dictionary, render_dictionary(embedded, load_catalog(paths.catalog))
        )
    except (EbpmError, OSError, KeyError):
        pass
    return True


def write_metadata(con: Any, manifest: dict[str, Any], specs: list[TableSpec]) -> None:
    """Store the catalog as built (`_ebpm_tables`, `_ebpm_columns`) and the manifest (`_ebpm_build`)."""
    con.execute(
        "CREATE TABLE _ebpm_tables (name VARCHAR PRIMARY KEY, title VARCHAR, title_en VARCHAR, "
        "description VARCHAR, synthetic BOOLEAN, rows BIGINT, vintage VARCHAR, update_frequency VARCHAR, "
        "publisher VARCHAR, licence VARCHAR, attribution VARCHAR, sources VARCHAR, disclosure VARCHAR, "
        "primary_key VARCHAR, catalog_file VARCHAR, build_id VARCHAR, built_at VARCHAR, census BOOLEAN, "
        "eligibility VARCHAR)"
    )
    con.execute(
        "CREATE TABLE _ebpm_columns (table_name VARCHAR, position INTEGER, name VARCHAR, type VARCHAR, "
        "title VARCHAR, title_en VARCHAR, description VARCHAR, unit VARCHAR, constraints VARCHAR, "
        "is_primary_key BOOLEAN, foreign_key VARCHAR, PRIMARY KEY (table_name, name))"
    )
    for spec in specs:
        info = manifest["tables"].get(spec.name)
        if info is None:
            continue
        srcs = info["sources"]
        con.execute(
            "INSERT INTO _ebpm_tables VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,"
            "$18,$19)",
            [
                spec.name,
                spec.title,
                spec.title_en,
                spec.description,
                spec.synthetic,
                info["rows"],
                info.get("vintage"),
                info.get("update"),
                "／".join(dict.fromkeys(s["publisher"] for s in srcs if s["publisher"])),
                "／".join(dict.fromkeys(s["licence"] for s in srcs if s["licence"])),
                "／".join(dict.fromkeys(s["attribution"] for s in srcs if s["attribution"])),
                json.dumps(srcs, ensure_ascii=False),
                json.dumps(spec.disclosure, ensure_ascii=False) if spec.disclosure else None,
                json.dumps(spec.primary_key),
                Path(spec.file).name,
                manifest["build_id"],
                manifest["built_at"],
                spec.census,
                spec.eligibility or None,
            ],
        )
        fks = {
            a: f"{fk.resource}.{b}"
            for fk in spec.foreign_keys
            for a, b in zip(fk.fields, fk.reference_fields, strict=True)
        }
        con.executemany(
            "INSERT INTO _ebpm_columns VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
            [
                [
                    spec.name,
                    i + 1,
                    f.name,
                    f.type,
                    f.title,
                    f.title_en,
                    f.description,
                    f.unit,
                    json.dumps(f.constraints, ensure_ascii=False, default=str)
                    if f.constraints
                    else None,
                    f.name in spec.primary_key,
                    fks.get(f.name),
                ]
                for i, f in enumerate(spec.fields)
            ],
        )
    con.execute(
        "CREATE TABLE _ebpm_build (build_id VARCHAR, built_at VARCHAR, code_version VARCHAR, manifest VARCHAR)"
    )
    con.execute(
        "INSERT INTO _ebpm_build VALUES ($1, $2, $3, $4)",
        [
            manifest["build_id"],
            manifest["built_at"],
            manifest["code_version"],
            json.dumps(manifest, ensure_ascii=False),
        ],
    )
