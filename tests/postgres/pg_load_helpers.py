"""Helpers for the PostgreSQL loader tests: export with the real CLI, describe the
exported tables as the load job will (manifest + Parquet schema + pg_types), compare
source and target as multisets of ``t::text``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from adu_core.models import ColumnInfo, TableInfo
from needs import skip_or_fail
from pgserver import quote_ident

ADU = str(Path(sys.executable).parent / "adu")


def export(url: str, out: Path, tables: Sequence[str], *options: str, profile: str | None = None) -> dict[str, Any]:
    """``adu export`` (the real CLI, a job in a throwaway store; ``--profile`` when given);
    the manifest."""
    env = dict(os.environ, ADU_DATA_DIR=str(out.parent / f"{out.name}-store"))
    args = [ADU, "export", url, "--out", str(out), "--no-validate", "--parallel", "2"]
    if profile is not None:
        args += ["--profile", profile]
    for t in tables:
        args += ["--table", t]
    for o in options:
        args += ["--source-option", o]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return dict(json.loads((out / "manifest.json").read_text()))


def exported_table(out: Path, entry: Mapping[str, Any], pg_types: Any = None) -> tuple[TableInfo, list[str]]:
    """The table as the load job sees it: the manifest's columns and keys, the Arrow types
    of the Parquet files, and ``pg_types`` (what discovery records; JSON round-tripped)."""
    files = [str(out / f["path"]) for f in entry["files"]]
    schema = pq.read_schema(files[0])
    columns = tuple(
        ColumnInfo(name=c["name"], source_type=c["source_type"], arrow_type=f.type, nullable=c["nullable"])
        for f, c in zip(schema, entry["columns"], strict=True)
    )
    props = {"pg_types": json.loads(json.dumps(pg_types))} if pg_types is not None else {}
    table = TableInfo(
        schema=entry["schema"],
        name=entry["name"],
        columns=columns,
        primary_key=tuple(entry.get("primary_key") or ()),
        properties=props,
    )
    return table, files


def row_texts(dsn: str, schema: str, name: str) -> Counter[str]:
    """The multiset of ``t::text`` of every row (UTC; the database's own lc_monetary)."""
    import psycopg2

    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SET TimeZone = 'UTC'; SET extra_float_digits = 3")
            # the alias is a name no test table has as a column (zoo has "t" and "r")
            cur.execute(f"SELECT adu_row::text FROM {quote_ident(schema)}.{quote_ident(name)} AS adu_row")
            return Counter(r[0] for r in cur.fetchall())
    finally:
        conn.close()


def stage_tables(dsn: str) -> list[str]:
    """Staging tables left in the database."""
    import psycopg2

    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(r"SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE '\_adu\_stage\_%'")
            return sorted(r[0] for r in cur.fetchall())
    finally:
        conn.close()


def ensure_locale(pg: Any, name: str, source: str) -> str:
    """A locale the running server accepts for lc_monetary, made with ``localedef`` (as a
    directory under /usr/lib/locale, which a running server sees) when missing."""

    def accepted() -> bool:
        try:
            pg.execute("SELECT set_config('lc_monetary', %s, false)", (name,))
            return True
        except Exception:
            return False

    if accepted():
        return name
    target = Path("/usr/lib/locale") / name
    if os.geteuid() != 0 or not Path("/usr/share/i18n/locales", source).exists():
        skip_or_fail(f"locale {name} is missing and cannot be made here (localedef as root, package locales)")
    proc = subprocess.run(
        ["localedef", "-i", source, "-f", "UTF-8", str(target)], capture_output=True, text=True, timeout=120
    )
    if proc.returncode not in (0, 1) or not accepted():  # 1: warnings only
        pytest.fail(f"localedef {name} failed: {proc.stderr[-500:]}")
    return name
