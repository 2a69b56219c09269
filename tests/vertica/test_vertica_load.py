"""ADU's Vertica loader (adu_vertica.load) through vertica-python's COPY into the test server.

Round trips: tables exported by ADU to Parquet (from Vertica, and from PostgreSQL) are
loaded file by file, read back with ADU's Vertica source and compared value by value
with what the Parquet files hold. Then the --if-exists modes and the faults: nothing of
a failed load is ever visible in the target. Proven against the test server only.
"""

from __future__ import annotations

import datetime as dt
import decimal
import threading
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from adu_core.engine import submit_and_run
from adu_core.errors import UsageError
from adu_core.models import JobSpec, JobStatus, TableSelection
from adu_core.plugin.components import NeverCancelled
from adu_core.secrets import url_password
from adu_vertica import VerticaSource
from adu_vertica.load import LoadError, begin_table, copy_batches, discard_table, load_table, publish_table
from adu_vertica.types import TIMETZ_MICROS_ARROW, from_portable, parse_type
from vertica_env import with_user
from vertica_tables import SCHEMA, big_table, types_table
from vertica_wire import VerticaTestServer

D = decimal.Decimal


def _export(
    url: str,
    tables: tuple[str, ...],
    out: Path,
    store: Any,
    settings: Any,
    options: dict[str, Any] | None = None,
    profile: str = "portable",
) -> None:
    spec = JobSpec(
        source=url,
        target=str(out),
        parallel=2,
        selection=TableSelection(tables=tables),
        source_options=options or {},
        profile=profile,
    )
    result = submit_and_run(store, spec, password=url_password(url), settings=settings, mp_start="forkserver")
    assert result.status == JobStatus.SUCCEEDED, [t.error for t in result.tables]


def _files(out: Path, schema: str, table: str) -> list[Path]:
    files = sorted((out / schema / table).glob("*.parquet"))
    assert files
    return files


def _load(url: str, files: list[Path], schema: str, table: str, **kw: Any) -> Any:
    arrow_schema = pq.read_schema(files[0])
    batches = [pq.ParquetFile(f).iter_batches(batch_size=700) for f in files]
    return load_table(url, schema=schema, table=table, arrow_schema=arrow_schema, files=batches, **kw)


def _read(url: str, schema: str, table: str) -> tuple[pa.Table, dict[str, str]]:
    src = VerticaSource(url, {"profile": "exact"})  # the exact types, to compare
    try:
        info = next(t for t in src.discover() if t.qualified_name == f"{schema}.{table}")
        with src.snapshot() as snap:
            parts = src.partitions(info, target=2)
            batches = [b for p in parts for b in src.read(p, snapshot=snap, batch_rows=500, cancel=NeverCancelled())]
    finally:
        src.close()
    types = {c.name: c.source_type for c in info.columns}
    return pa.Table.from_batches(batches, schema=info.arrow_schema()).sort_by("id"), types


def _tables(server: VerticaTestServer, schema: str) -> list[str]:
    return sorted(name for s, name in server.engine.tables if s == schema)


# ------------------------------------------------------------------------------ round trips

TEXT_KEPT = {  # what the complex and spatial columns of all_types become, row by row
    "arr": ["[1,null,3]", "[]", None, "[null]"],
    "arr_s": ['["a","b"]', "[]", None, "[null]"],
    "st": ["[0.5,2.0]", "[]", None, '["NaN"]'],
    "rw": ['{"x":1,"y":"why","z":-1.250}', '{"x":null,"y":null,"z":null}', None, '{"x":-1,"y":"","z":0.001}'],
    "geo": ["POINT(1 2)", "LINESTRING(0 0, 1 1)", None, "POLYGON((0 0, 1 0, 1 1, 0 0))"],
}


@pytest.mark.parametrize("profile", ["portable", "exact"])
def test_every_vertica_type_round_trips_through_parquet(
    fresh_server: VerticaTestServer, tmp_path: Path, adu_store: Any, adu_settings: Any, profile: str
) -> None:
    fresh_server.engine.create_table(types_table())
    fresh_server.engine.create_table(big_table())
    url = fresh_server.url()
    out = tmp_path / "out"
    _export(url, (f"{SCHEMA}.all_types", f"{SCHEMA}.events"), out, adu_store, adu_settings, profile=profile)
    result = _load(url, _files(out, SCHEMA, "all_types"), "loaded", "all_types", primary_key=("id",))
    assert result.action == "created" and result.rows == 4
    assert set(result.text_columns) == set(TEXT_KEPT)
    original = pq.read_table(out / SCHEMA / "all_types").sort_by("id")
    back, types = _read(url, "loaded", "all_types")
    source_types = {c.name: c.type for c in types_table().columns}
    portable = {"n_60": pa.string(), "t": pa.int64(), "ttz": TIMETZ_MICROS_ARROW, "u": pa.binary(16)}
    for name in original.column_names:
        if name in TEXT_KEPT:
            assert types[name] == "long varchar(32000000)"
            assert back.column(name).to_pylist() == TEXT_KEPT[name], name
            continue
        assert types[name] == source_types[name], name  # the same Vertica type
        column = original.column(name).combine_chunks()
        if profile == "portable" and name in portable:  # what the file holds, and the exact value it stands for
            assert column.type == portable[name], name
            column = from_portable(column, parse_type(source_types[name]))
        assert repr(back.column(name).to_pylist()) == repr(column.to_pylist()), name
    assert _tables(fresh_server, "loaded") == ["all_types"]  # no staging table left
    events = _files(out, SCHEMA, "events")
    assert len(events) >= 2  # one COPY per file
    assert _load(url, events, "loaded", "events").rows == 20_000
    back, _ = _read(url, "loaded", "events")
    assert back.equals(pq.read_table(out / SCHEMA / "events").sort_by("id"), check_metadata=False)


PG_TABLE = """
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE zoo (
  id bigint PRIMARY KEY, i2 smallint, i4 integer, f4 real, f8 double precision,
  n numeric(12,2), n60 numeric(60,5), n90 numeric(90,10), nu numeric, b boolean,
  vc varchar(10), ch char(4), tx text, by bytea, u uuid, d date, t time(3), ttz timetz,
  ts timestamp(3), tstz timestamptz, iv interval, js jsonb, arr int[], m mood);
INSERT INTO zoo VALUES
 (1, -32768, 2147483647, 1.5, 0.1, -0.01, 12345678901234567890.12345,
  -123456789012345678901234567890123456789012345678901234567890123456789012345678.0123456789,
  'NaN', true, 'héllo wörl', 'ab', 'x|y\\z', '\\x00ff5c0a', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '0044-03-15 BC', '23:59:59.999', '13:45:00.5+05:30', '1999-12-31 23:59:59.123', '2000-01-01 00:00:00.000001+02',
  '-1 year 2 mons -3 days 04:05:06.000007', '{"a": [1, 2.50]}', '{{1,2},{3,NULL}}', 'happy'),
 (2, NULL, NULL, '-Infinity', 'NaN', NULL, NULL, NULL, NULL, false, '', '', '', '', NULL,
  '9999-12-31', '00:00:00', '00:00:00-14:59', NULL, NULL, '0', NULL, '{}', NULL),
 (3, 0, 0, NULL, NULL, 0, 0, 0, 1e-20, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, 'null', NULL, 'sad');
"""
PG_TYPES = {  # the Vertica column each PostgreSQL column became
    "id": "int", "i2": "int", "i4": "int", "f4": "float", "f8": "float", "n": "numeric(12,2)",
    "n60": "numeric(60,5)", "n90": "numeric(90,10)", "nu": "long varchar(32000000)", "b": "boolean",
    "vc": "varchar(40)", "ch": "varchar(16)", "tx": "long varchar(32000000)", "by": "long varbinary(32000000)",
    "u": "uuid", "d": "date", "t": "time(3)", "ttz": "timetz", "ts": "timestamp(3)", "tstz": "timestamptz",
    "iv": "long varchar(32000000)", "js": "long varchar(32000000)", "arr": "long varchar(32000000)",
    "m": "long varchar(32000000)",
}  # fmt: skip


SPECIAL = {  # PostgreSQL text or struct in Parquet -> what Vertica must hold
    "ttz": {
        "13:45:00.5+05:30": {"time": dt.time(13, 45, 0, 500000), "utc_offset_s": 19800},
        "00:00:00-14:59": {"time": dt.time(0, 0), "utc_offset_s": -53940},
    },
    "iv": {(-10, -3, 14706000007): "P-10M-3DT14706.000007S", (0, 0, 0): "P0M0DT0S"},
}


def _check_column(name: str, original: pa.ChunkedArray, back: pa.ChunkedArray) -> None:
    if name in SPECIAL:
        key = (lambda v: v) if name == "ttz" else (lambda v: (v["months"], v["days"], v["microseconds"]))
        want = [None if v is None else SPECIAL[name][key(v)] for v in original.to_pylist()]
        assert back.to_pylist() == want, name
    elif name == "u":  # the portable profile's 16 bytes, or its text (uuid=text)
        got = [
            None if v is None else uuid.UUID(bytes=bytes(v)) if isinstance(v, bytes) else uuid.UUID(str(v))
            for v in back.to_pylist()
        ]
        want = [
            None if v is None else uuid.UUID(bytes=v) if isinstance(v, bytes) else uuid.UUID(v)
            for v in original.to_pylist()
        ]
        assert got == want, name
    elif pa.types.is_floating(back.type):  # NaN equals NaN here
        assert [repr(x) for x in back.to_pylist()] == [repr(x) for x in original.cast(back.type).to_pylist()], name
    else:  # the same values, compared as Arrow arrays (dates BC have no Python form)
        assert original.cast(back.type).equals(back), f"{name}: {original} != {back}"


@pytest.mark.parametrize("uuid_form", ["bytes", "text"])
def test_postgresql_type_families_round_trip(
    pg_db: Any, fresh_server: VerticaTestServer, tmp_path: Path, adu_store: Any, adu_settings: Any, uuid_form: str
) -> None:
    pg_db.execute(PG_TABLE)
    out = tmp_path / "out"
    _export(pg_db.dsn, ("public.zoo",), out, adu_store, adu_settings, {"uuid": uuid_form})
    u = pq.read_schema(_files(out, "public", "zoo")[0]).field("u")
    assert u.type == (pa.binary(16) if uuid_form == "bytes" else pa.string())
    url = fresh_server.url()
    result = _load(url, _files(out, "public", "zoo"), "from_pg", "zoo", primary_key=("id",))
    assert result.rows == 3
    assert set(result.text_columns) == {"nu", "iv", "js", "arr", "m"}
    back, types = _read(url, "from_pg", "zoo")
    assert types == PG_TYPES
    original = pq.read_table(out / "public" / "zoo").sort_by("id")
    for name in original.column_names:
        _check_column(name, original.column(name), back.column(name))


# ------------------------------------------------------------------------------ modes and faults

SCHEMA_T = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False, metadata={b"adu.source_type": b"int"}),
        pa.field("amount", pa.decimal128(12, 2), metadata={b"adu.source_type": b"numeric(12,2)"}),
        pa.field("label", pa.string(), metadata={b"adu.source_type": b"varchar(20)"}),
    ]
)


def _batch(ids: range, amount: D | None = None) -> pa.RecordBatch:
    amount = D("1.25") if amount is None else amount
    return pa.RecordBatch.from_pylist([{"id": i, "amount": amount, "label": f"row {i}"} for i in ids], schema=SCHEMA_T)


def _into(url: str, table: str, batch: pa.RecordBatch, if_exists: str = "fail") -> Any:
    return load_table(url, schema="m", table=table, arrow_schema=SCHEMA_T, files=[[batch]], if_exists=if_exists)


def _ids(cur: Any, table: str = "t") -> list[int]:
    cur.execute(f"SELECT id FROM m.{table} ORDER BY id")
    return [r[0] for r in cur.fetchall()]


@pytest.fixture
def target(fresh_server: VerticaTestServer) -> Any:
    """``m.t`` holding rows 1-3, and a cursor on the test server."""
    import vertica_python

    url = fresh_server.url()
    load_table(url, schema="m", table="t", arrow_schema=SCHEMA_T, files=[[_batch(range(1, 4))]])
    conn = vertica_python.connect(
        host="127.0.0.1", port=fresh_server.port, user=fresh_server.user, password=fresh_server.password,
        database=fresh_server.database, tlsmode="disable", autocommit=True,
    )  # fmt: skip
    try:
        yield url, conn.cursor()
    finally:
        conn.close()


def test_if_exists_modes(target: Any, fresh_server: VerticaTestServer) -> None:
    url, cur = target
    with pytest.raises(UsageError, match="already exists") as info:
        load_table(url, schema="m", table="t", arrow_schema=SCHEMA_T, files=[[_batch(range(10, 12))]])
    assert "\n" not in str(info.value) and _ids(cur) == [1, 2, 3]
    cur.execute("CREATE USER reader IDENTIFIED BY 'pw'")
    cur.execute("GRANT USAGE ON SCHEMA m TO reader")
    cur.execute("GRANT SELECT ON m.t TO reader")
    tid = fresh_server.engine.table_ids[("m", "t")]
    r = load_table(
        url, schema="m", table="t", arrow_schema=SCHEMA_T, files=[[_batch(range(4, 6))]], if_exists="truncate"
    )
    assert (r.action, r.rows, _ids(cur)) == ("truncated", 2, [4, 5])
    assert fresh_server.engine.table_ids[("m", "t")] == tid  # the same table: its grants stay
    reader = VerticaSource(with_user(url, "reader", "pw"))
    try:
        assert next(t for t in reader.discover() if t.name == "t").properties["readable"] is True
    finally:
        reader.close()
    r = _into(url, "t", _batch(range(6, 8)), "append")
    assert (r.action, _ids(cur)) == ("appended", [4, 5, 6, 7])
    r = load_table(
        url, schema="m", table="t", arrow_schema=SCHEMA_T, files=[[_batch(range(8, 9))]], if_exists="replace"
    )
    assert (r.action, _ids(cur)) == ("replaced", [8])
    assert _tables(fresh_server, "m") == ["t"]  # neither staging nor the replaced table is left
    r = _into(url, "new", _batch(range(2)), "append")
    assert r.action == "created" and _ids(cur, "new") == [0, 1]


def test_a_value_that_no_longer_fits_fails_and_changes_nothing(target: Any, fresh_server: VerticaTestServer) -> None:
    url, cur = target
    cur.execute("CREATE TABLE m.narrow (id INTEGER NOT NULL, amount NUMERIC(5,2), label VARCHAR(5))")
    cur.execute("INSERT INTO m.narrow VALUES (1, 1.00, 'one')")
    for bad in (_batch(range(2, 3), D("12345.67")), _batch(range(123, 124))):  # too many digits; 'row 123' > 5 bytes
        with pytest.raises(LoadError) as info:
            load_table(url, schema="m", table="narrow", arrow_schema=SCHEMA_T, files=[[bad]], if_exists="append")
        assert "\n" not in str(info.value)
        assert _ids(cur, "narrow") == [1]
    missing = pa.schema([*SCHEMA_T, pa.field("extra", pa.int64(), metadata={b"adu.source_type": b"int"})])
    with pytest.raises(UsageError, match="'extra' does not exist"):
        load_table(url, schema="m", table="narrow", arrow_schema=missing, files=[], if_exists="append")
    assert _tables(fresh_server, "m") == ["narrow", "t"]


def test_copy_fail_and_bad_values_leave_the_target_unchanged(target: Any, fresh_server: VerticaTestServer) -> None:
    url, cur = target

    def broken() -> Any:
        yield _batch(range(100, 200))
        raise OSError("the Parquet file went away")

    with pytest.raises(OSError, match="went away"):
        load_table(url, schema="m", table="t", arrow_schema=SCHEMA_T, files=[broken()], if_exists="replace")
    assert any("COPY" in q for q in fresh_server.cluster.queries)
    lowest = pa.RecordBatch.from_pylist([{"id": -(2**63), "amount": None, "label": None}], schema=SCHEMA_T)
    with pytest.raises(LoadError, match="'id' holds -9223372036854775808") as info:
        load_table(url, schema="m", table="t", arrow_schema=SCHEMA_T, files=[[lowest]], if_exists="truncate")
    assert "\n" not in str(info.value)
    assert _ids(cur) == [1, 2, 3] and _tables(fresh_server, "m") == ["t"]


def test_a_lost_connection_changes_nothing_and_is_retryable(target: Any, fresh_server: VerticaTestServer) -> None:
    url, cur = target
    fresh_server.cluster.faults.drop_copy_after_bytes = 100
    with pytest.raises(LoadError, match="connection to Vertica lost") as info:
        _into(url, "t", _batch(range(50)), "replace")
    assert info.value.retryable and fresh_server.cluster.faults.drop_copy_after_bytes is None
    assert _ids(cur) == [1, 2, 3] and _tables(fresh_server, "m") == ["t"]
    # lost at the COMMIT that publishes a truncate: the transaction rolls back
    staged = begin_table(url, schema="m", table="t", arrow_schema=SCHEMA_T, if_exists="truncate", job_id="job-1")
    assert copy_batches(url, staged, [_batch(range(10, 20))]) == 10
    fresh_server.cluster.faults.drop_on_statement = "COMMIT"
    with pytest.raises(LoadError) as info:
        publish_table(url, staged, expected_rows=10)
    assert info.value.retryable and _ids(cur) == [1, 2, 3]
    discard_table(url, staged)
    assert _tables(fresh_server, "m") == ["t"]


def test_files_load_at_once_from_several_workers(fresh_server: VerticaTestServer) -> None:
    url = fresh_server.url()
    staged = begin_table(url, schema="w", table="t", arrow_schema=SCHEMA_T, primary_key=("id",))
    counts: list[int] = []
    workers = [
        threading.Thread(target=lambda r=r: counts.append(copy_batches(url, staged, [_batch(r)])))
        for r in (range(0, 400), range(400, 1000), range(1000, 1001))
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sorted(counts) == [1, 400, 600]
    with pytest.raises(LoadError, match="holds 1001 rows, 1002 were loaded"):
        publish_table(url, staged, expected_rows=1002)
    result = publish_table(url, staged, expected_rows=1001)
    assert (result.action, result.rows) == ("created", 1001)


def test_no_privilege_to_create_is_one_line(fresh_server: VerticaTestServer) -> None:
    import vertica_python

    url = fresh_server.url()
    load_table(url, schema="p", table="t", arrow_schema=SCHEMA_T, files=[[_batch(range(2))]])
    conn = vertica_python.connect(
        host="127.0.0.1", port=fresh_server.port, user=fresh_server.user, password=fresh_server.password,
        database=fresh_server.database, tlsmode="disable", autocommit=True,
    )  # fmt: skip
    try:
        conn.cursor().execute("CREATE USER loader IDENTIFIED BY 'pw'")
        conn.cursor().execute("GRANT USAGE ON SCHEMA p TO loader")
    finally:
        conn.close()
    with pytest.raises(LoadError, match="permission denied") as info:
        load_table(with_user(url, "loader", "pw"), schema="p", table="u", arrow_schema=SCHEMA_T, files=[])
    assert "\n" not in str(info.value) and info.value.sqlstate == "42501"
