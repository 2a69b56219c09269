"""Helpers of the interop suite: export with the real CLI, PostgreSQL's own text of every
value, the four readers, and comparisons in each reader's own terms.

Every value is compared with PostgreSQL's text output of the source value (the type's
output function, fetched raw: no driver conversion), turned into the reader's terms by
:func:`expected_value` (days since 1970 for a date, microseconds for a timestamp or a time,
a ``Decimal`` string for a numeric, bytes for bytea...): the reader is asked for the same
terms (DuckDB through SQL, polars and pandas through their casts, Spark through
``unix_date``/``unix_micros``), so no value has to fit a Python ``date`` on the way.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

ADU = str(Path(sys.executable).with_name("adu"))
INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1
PLACEHOLDER = "_adu_placeholder"


# ------------------------------------------------------------------------------ export


def export(url: str, out: Path, tables: Sequence[str], profile: str, *options: str) -> dict[str, Any]:
    """``adu export --profile PROFILE`` (the real CLI, a throwaway store); the manifest."""
    env = dict(os.environ, ADU_DATA_DIR=str(out.parent / f"{out.name}-store"))
    args = [ADU, "export", url, "--out", str(out), "--no-validate", "--parallel", "2", "--profile", profile]
    for t in tables:
        args += ["--table", t]
    for o in options:
        args += ["--source-option", o]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return dict(json.loads((out / "manifest.json").read_text()))


def files_of(out: Path, entry: Mapping[str, Any]) -> list[str]:
    return [str(out / f["path"]) for f in entry["files"]]


# ---------------------------------------------------------------------- the source's text


def raw_rows(conn: Any, query: str) -> list[tuple[Any, ...]]:
    """Rows of ``query`` as PostgreSQL's text output (no driver conversion)."""
    import psycopg2.extensions

    with conn.cursor() as cur:
        cur.execute(query)
        oids = tuple({d.type_code for d in cur.description})
    raw = psycopg2.extensions.new_type(oids, "ADU_RAW", lambda value, cur: value)
    psycopg2.extensions.register_type(raw, conn)
    with conn.cursor() as cur:
        cur.execute(query)
        return list(cur.fetchall())


def source_texts(
    dsn: str, schema: str, name: str, columns: Sequence[tuple[str, str]], order: str = "id"
) -> dict[str, list[Any]]:
    """``{column: [text of each row, by id]}``; ``columns``: (name, source type); a table
    without an ``id`` column (``order=""``) in its physical order, as the export read it.

    Sessions as ADU's reader sets them (UTC, ISO dates, hex bytea); money as its numeric
    value (its text depends on lc_monetary)."""
    import psycopg2
    from psycopg2 import sql

    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres';"
                " SET extra_float_digits = 3; SET bytea_output = 'hex'"
            )
        exprs = [
            sql.SQL("{}::numeric").format(sql.Identifier(c)) if t == "money" else sql.Identifier(c) for c, t in columns
        ]
        query = sql.SQL("SELECT {} FROM {}{}").format(
            sql.SQL(", ").join(exprs),
            sql.Identifier(schema, name),
            sql.SQL(" ORDER BY {}").format(sql.Identifier(order)) if order else sql.SQL(" ORDER BY ctid"),
        )
        rows = raw_rows(conn, query.as_string(conn))
    finally:
        conn.close()
    return {c: [r[i] for r in rows] for i, (c, _t) in enumerate(columns)}


# ------------------------------------------------------------------- kinds and parsing


def kind_of(field: pa.Field) -> str:
    """How a Parquet column is compared, from its Arrow type and ADU's field metadata."""
    t = field.type
    meta = field.metadata or {}
    if meta.get(b"adu.encoding") == b"time-micros":
        return "time"
    if isinstance(t, pa.BaseExtensionType) or pa.types.is_fixed_size_binary(t):
        return "uuid"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t):
        return "int"
    if t == pa.float32():
        return "float4"
    if pa.types.is_floating(t):
        return "float8"
    if pa.types.is_decimal(t):
        return "decimal"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_time(t):
        return "time"
    if pa.types.is_struct(t):
        return "interval"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "binary"
    return "text"


def days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (any year; Hinnant's algorithm)."""
    y -= m <= 2
    era = y // 400  # Python floors: no adjustment for negative years
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


_DATE = re.compile(r"^(\d+)-(\d\d)-(\d\d)")
_TIME = re.compile(r"(-)?(\d+):(\d\d):(\d\d)(?:\.(\d+))?")


def _days(text: str) -> int:
    m = _DATE.match(text)
    assert m, text
    year = int(m.group(1))
    if text.endswith(" BC"):
        year = 1 - year
    return days_from_civil(year, int(m.group(2)), int(m.group(3)))


def _clock_micros(text: str) -> int:
    m = _TIME.search(text)
    assert m, text
    frac = (m.group(5) or "").ljust(6, "0")
    value = (int(m.group(2)) * 3600 + int(m.group(3)) * 60 + int(m.group(4))) * 1_000_000 + int(frac or 0)
    return -value if m.group(1) else value


def _interval(text: str) -> dict[str, int]:
    months = days = 0
    for number, unit in re.findall(r"(-?\d+) (year|mon|day)s?", text):
        n = int(number)
        if unit == "year":
            months += 12 * n
        elif unit == "mon":
            months += n
        else:
            days += n
    rest = re.sub(r"-?\d+ (years?|mons?|days?)", "", text).strip()
    micros = _clock_micros(rest) if rest else 0
    return {"months": months, "days": days, "microseconds": micros}


def expected_value(text: str | None, kind: str, source_type: str = "") -> Any:
    """PostgreSQL's text of a value, in the terms the readers are asked for."""
    if text is None:
        return None
    if kind == "bool":
        return text == "t"
    if kind == "int":
        return int(text)
    if kind in ("float4", "float8"):
        return float(text)
    if kind == "decimal":
        return text
    if kind == "date":
        return {"infinity": INT32_MAX, "-infinity": -INT32_MAX}.get(text) or _days(text)
    if kind == "timestamp":
        if text in ("infinity", "-infinity"):
            return INT64_MAX if text == "infinity" else -INT64_MAX
        return _days(text) * 86_400_000_000 + _clock_micros(text.split(" ")[1])
    if kind == "time":
        return _clock_micros(text)
    if kind == "interval":
        return _interval(text)
    if kind == "binary":
        return bytes.fromhex(text[2:])
    if kind == "uuid":
        return uuid.UUID(text)
    return text


def same(got: Any, want: Any, kind: str) -> bool:
    """Equal in the reader's terms: NaN equals NaN, -0.0 differs from 0.0, float4 as float4."""
    if got is None or want is None:
        return got is None and want is None
    if kind in ("float4", "float8"):
        g, w = float(got), float(want)
        if kind == "float4":
            import numpy as np

            g, w = float(np.float32(g)), float(np.float32(w))
        if math.isnan(w):
            return math.isnan(g)
        return g == w and math.copysign(1, g) == math.copysign(1, w)
    if kind == "decimal":  # the value (Spark's Decimal may print with another exponent)
        return isinstance(got, Decimal) and got == Decimal(want)
    return bool(got == want)


# ---------------------------------------------------------------------------- readers


def _norm(value: Any, kind: str) -> Any:
    """A reader's Python value in the comparison's terms."""
    if value is None:
        return None
    if kind == "uuid":  # the exact profile's UUID, or the portable profile's 16 plain bytes
        if isinstance(value, uuid.UUID):
            return value
        return uuid.UUID(bytes=bytes(value))
    if kind == "binary":
        return bytes(value)
    if kind == "interval":
        if hasattr(value, "asDict"):
            value = value.asDict()
        return {k: int(value[k]) for k in ("months", "days", "microseconds")}
    if kind == "decimal" and not isinstance(value, Decimal):
        return value  # a reader that changed the type (DuckDB's DOUBLE for decimal256) fails
    return value


Reader = Callable[[Any, Sequence[str], Sequence[pa.Field]], dict[str, list[Any]]]


def read_duckdb(_ctx: Any, files: Sequence[str], fields: Sequence[pa.Field]) -> dict[str, list[Any]]:
    import duckdb

    con = duckdb.connect()
    try:
        cols = []
        for f in fields:
            c = '"' + f.name.replace('"', '""') + '"'
            k = kind_of(f)
            if k == "date":
                c = (
                    f"CASE WHEN isinf({c}) THEN (CASE WHEN {c}::VARCHAR LIKE '-%' THEN -{INT32_MAX} ELSE {INT32_MAX}"
                    f" END) ELSE date_diff('day', DATE '1970-01-01', {c}) END"
                )
            elif k == "timestamp":
                c = (
                    f"CASE WHEN isinf({c}) THEN (CASE WHEN {c}::VARCHAR LIKE '-%' THEN -{INT64_MAX}"
                    f" ELSE {INT64_MAX} END) ELSE epoch_us({c}) END"
                )
            elif k == "time" and pa.types.is_time(f.type):
                c = (
                    f"(extract('hour' FROM {c})::BIGINT * 3600000000 + extract('minute' FROM {c})::BIGINT * 60000000"
                    f" + extract('microseconds' FROM {c})::BIGINT)"
                )
            cols.append(c)
        rows = con.execute(f"SELECT {', '.join(cols)} FROM read_parquet(?)", [list(files)]).fetchall()
    finally:
        con.close()
    return {f.name: [_norm(r[i], kind_of(f)) for r in rows] for i, f in enumerate(fields)}


def read_polars(_ctx: Any, files: Sequence[str], fields: Sequence[pa.Field]) -> dict[str, list[Any]]:
    import polars as pl

    df = pl.concat([pl.read_parquet(f) for f in files], how="vertical")
    out = {}
    for f in fields:
        s = df.get_column(f.name)
        k = kind_of(f)
        if k == "date":
            s = s.cast(pl.Int32)
        elif k == "timestamp":
            s = s.cast(pl.Int64)
        elif k == "time" and s.dtype == pl.Time:
            s = s.cast(pl.Int64) // 1000  # polars: nanoseconds
        out[f.name] = [_norm(v, k) for v in s.to_list()]
    return out


def read_pandas(_ctx: Any, files: Sequence[str], fields: Sequence[pa.Field]) -> dict[str, list[Any]]:
    import pandas as pd

    df = pd.concat([pd.read_parquet(f, dtype_backend="pyarrow") for f in files], ignore_index=True)
    out = {}
    for f in fields:
        s = df[f.name]
        k = kind_of(f)
        if k == "date":
            s = s.astype("int32[pyarrow]")
        elif k == "timestamp" or (k == "time" and pa.types.is_time(f.type)):
            s = s.astype("int64[pyarrow]")
        out[f.name] = [None if v is pd.NA or v is None else _norm(v, k) for v in s.tolist()]
    return out


def read_spark(spark: Any, files: Sequence[str], fields: Sequence[pa.Field]) -> dict[str, list[Any]]:
    from pyspark.sql import functions as F

    df = spark.read.parquet(*files)
    cols = []
    for f in fields:
        c = F.col(f"`{f.name}`")
        k = kind_of(f)
        if k == "date":
            c = F.unix_date(c)
        elif k == "timestamp":
            c = F.unix_micros(c.cast("timestamp"))
        cols.append(c.alias(f"c{len(cols)}"))
    rows = df.select(*cols).collect()
    return {f.name: [_norm(r[i], kind_of(f)) for r in rows] for i, f in enumerate(fields)}


READERS: dict[str, Reader] = {
    "duckdb": read_duckdb,
    "polars": read_polars,
    "pandas": read_pandas,
    "spark": read_spark,
}


def check_table(
    reader: str,
    ctx: Any,
    files: Sequence[str],
    entry: Mapping[str, Any],
    texts: Mapping[str, list[Any]],
    rows: int,
    key: str | None = "id",
) -> dict[str, str]:
    """``{column: "ok" | why not}`` for one exported table read by ``reader`` (``"*"``:
    the reader could not open the files). ``texts``: PostgreSQL's text by original name,
    ordered by the column ``key`` (``None``: in the files' order)."""
    schema = pq.read_schema(files[0])
    fields = list(schema)
    try:
        got = READERS[reader](ctx, files, fields)
    except Exception as exc:
        return {"*": f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}"}
    ids = got.get(key) if key else None
    order = sorted(range(len(ids)), key=lambda i: ids[i]) if ids is not None else list(range(rows))
    out: dict[str, str] = {}
    columns = {c["name"]: c for c in entry["columns"]}
    for f in fields:
        values = [got[f.name][i] for i in order]
        if len(values) != rows:
            out[f.name] = f"{len(values)} rows, the source has {rows}"
            continue
        col = columns[f.name]
        if col.get("placeholder"):
            out[f.name] = "ok" if all(v is None for v in values) else "placeholder not NULL"
            continue
        k = kind_of(f)
        source_type = str(col.get("source_type") or "")
        want = [expected_value(t, k, source_type) for t in texts[col.get("original_name") or f.name]]
        bad = [(g, w) for g, w in zip(values, want, strict=True) if not same(g, w, k)]
        out[f.name] = "ok" if not bad else f"got {bad[0][0]!r}, PostgreSQL has {bad[0][1]!r}"
    return out
