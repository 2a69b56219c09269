"""The Vertica source plugin, end to end through vertica-python and the wire protocol."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from adu_core.errors import Cancelled, ConnectError, SourceError, UsageError
from adu_core.models import TableInfo
from adu_core.plugin.components import NeverCancelled
from adu_core.secrets import known_secrets
from adu_vertica import VerticaSource
from adu_vertica.catalog import segmentation_columns
from adu_vertica.connect import connection_options, parse_nodes
from vertica_env import VerticaEnv
from vertica_expect import expected, same
from vertica_tables import BIG_ROWS, SCHEMA, TYPES_COLUMNS, TYPES_ROWS, big_rows, big_table
from vertica_wire import ROWS_PER_CHUNK


@pytest.fixture
def source(vertica: VerticaEnv) -> Iterator[VerticaSource]:
    """The source in the exact profile (the portable one: tests/vertica/test_vertica_profile.py)."""
    src = VerticaSource(vertica.url, {"profile": "exact"})
    try:
        yield src
    finally:
        src.close()


def _table(src: VerticaSource, name: str) -> TableInfo:
    return next(t for t in src.discover() if t.qualified_name == f"{SCHEMA}.{name}")


def _read_all(
    src: VerticaSource,
    table: TableInfo,
    *,
    target: int = 1,
    batch_rows: int = 1000,
    snapshot: dict[str, Any] | None = None,
) -> pa.Table:
    with src.snapshot() as snap:
        snap = snapshot or snap
        batches = []
        for part in src.partitions(table, target=target):
            batches += list(src.read(part, snapshot=snap, batch_rows=batch_rows, cancel=NeverCancelled()))
    return pa.Table.from_batches(batches, schema=table.arrow_schema())


# ------------------------------------------------------------------------------ discovery


def test_discovery_lists_tables_columns_keys_and_segmentation(source: VerticaSource) -> None:
    tables = {t.qualified_name: t for t in source.discover() if t.schema == SCHEMA}
    assert {"adu_test.all_types", "adu_test.events", "adu_test.plain", "adu_test.payroll"} <= set(tables)
    events = tables["adu_test.events"]
    assert events.primary_key == ("id",)
    assert events.properties["segmented"] is True
    assert events.properties["segmentation_columns"] == ["id"]
    assert events.row_estimate == BIG_ROWS
    assert [c.name for c in events.columns] == ["id", "v", "amount", "name", "at", "flag"]
    assert events.column("id").nullable is False and events.column("v").nullable is True
    assert events.ddl is not None and 'SEGMENTED BY HASH("id")' in events.ddl
    plain = tables["adu_test.plain"]
    assert plain.primary_key == () and plain.properties["segmentation_columns"] is None

    types = tables["adu_test.all_types"]
    props = {c.name: dict(c.properties) for c in types.columns}
    assert props["vc"]["max_length"] == 40
    assert props["c"] == {"max_length": 5, "fixed_length": True}
    assert props["n"]["precision"] == 12 and props["n"]["scale"] == 2
    assert props["n_1024"]["encoding"] == "decimal_text"
    assert props["iym"]["encoding"] == "months"
    assert props["geo"]["encoding"] == "wkt"
    assert props["st"]["set"] is True
    arrow = {c.name: c.arrow_type for c in types.columns}
    assert arrow["n"] == pa.decimal128(12, 2)
    assert arrow["n_38"] == pa.decimal128(38, 10)
    assert arrow["n_60"] == pa.decimal256(60, 5)
    assert arrow["n_1024"] == pa.string()
    assert arrow["ids"] == pa.duration("us")
    assert arrow["tstz"] == pa.timestamp("us", tz="UTC")
    assert arrow["arr"] == pa.list_(pa.int64())
    assert arrow["rw"] == pa.struct([("x", pa.int64()), ("y", pa.string()), ("z", pa.decimal128(8, 3))])


def test_segmentation_expression_parsing() -> None:
    cols = ["id", "Region", "x y"]
    assert segmentation_columns("hash(t.id)", cols) == ["id"]
    assert segmentation_columns('hash(s.t.id, "t"."Region")', cols) == ["id", "Region"]
    assert segmentation_columns('HASH("x y")', cols) == ["x y"]
    assert segmentation_columns("hash(t.id + 1)", cols) is None
    assert segmentation_columns("modularhash(t.id)", cols) is None
    assert segmentation_columns("hash(t.nope)", cols) is None
    assert segmentation_columns(None, cols) is None


# ------------------------------------------------------------------------------ types


def test_every_type_is_exact(source: VerticaSource) -> None:
    table = _table(source, "all_types")
    got = _read_all(source, table).sort_by("id")
    assert got.schema == table.arrow_schema()
    rows = got.to_pylist()
    assert len(rows) == len(TYPES_ROWS)
    for want_row, got_row in zip(TYPES_ROWS, rows, strict=True):
        for col, want in zip(TYPES_COLUMNS, want_row, strict=True):
            exp = expected(want, col.type)
            have = got_row[col.name]
            assert same(exp, have), f"row {want_row[0]} column {col.name}: {have!r} != {exp!r}"


def test_export_writes_parquet(source: VerticaSource, tmp_path: Any) -> None:
    table = _table(source, "all_types")
    got = _read_all(source, table)
    pq.write_table(got, tmp_path / "t.parquet")
    back = pq.read_table(tmp_path / "t.parquet")
    assert back.num_rows == len(TYPES_ROWS)
    assert back.schema.field("n_60").type == pa.decimal256(60, 5)


# ------------------------------------------------------------------------------ partitions


def test_hash_partitions_cover_every_row_once(source: VerticaSource) -> None:
    table = _table(source, "events")
    parts = source.partitions(table, target=4)
    assert [p.spec["kind"] for p in parts] == ["hash"] * 4
    assert parts[0].spec["lo"] is None and parts[-1].spec["hi"] is None
    sql = source.partition_sql(parts[1], 7)
    assert sql.startswith("AT EPOCH 7 SELECT ") and 'HASH("id") >= ' in sql
    with source.snapshot() as snap:
        counts = []
        ids: list[int] = []
        for p in parts:
            batches = list(source.read(p, snapshot=snap, batch_rows=3000, cancel=NeverCancelled()))
            assert all(b.schema == table.arrow_schema() for b in batches)
            assert all(b.num_rows <= 3000 for b in batches)
            n = sum(b.num_rows for b in batches)
            counts.append(n)
            for b in batches:
                ids += b.column(0).to_pylist()
    assert sum(counts) == BIG_ROWS and len(set(ids)) == BIG_ROWS
    assert min(counts) > 0


def test_values_of_a_big_table(source: VerticaSource) -> None:
    table = _table(source, "events")
    got = _read_all(source, table, target=2, batch_rows=4096).sort_by("id")
    want = big_rows(BIG_ROWS)
    rows = got.slice(0, 5).to_pylist() + got.slice(BIG_ROWS - 5).to_pylist()
    for r in rows:
        i = r["id"]
        assert tuple(r.values()) == want[i]


def test_range_partitions_for_a_table_without_keys(vertica: VerticaEnv) -> None:
    src = VerticaSource(vertica.url, {"partitioning": "range"})
    try:
        table = _table(src, "plain")
        parts = src.partitions(table, target=3)
        assert [p.spec["kind"] for p in parts] == ["range"] * 3
        got = _read_all(src, table, target=3)
        keys = got.column("k").to_pylist()
        assert len(keys) == 1000 and keys.count(None) == 10
        assert len({k for k in keys if k is not None}) == 990
    finally:
        src.close()


def test_single_partition_when_asked(source: VerticaSource) -> None:
    table = _table(source, "events")
    assert len(source.partitions(table, target=1)) == 1
    src = VerticaSource(source.url, {"partitioning": "none"})
    assert [p.spec["kind"] for p in src.partitions(table, target=8)] == ["whole"]


# ------------------------------------------------------------------------------ consistency


def test_every_partition_reads_at_the_job_epoch(vertica: VerticaEnv, source: VerticaSource) -> None:
    from vertica_engine import TableDef

    t = TableDef(SCHEMA, "growing", big_table().columns, big_rows(100), primary_key=("id",), segmented_by=("id",))
    vertica.create(t)
    table = _table(source, "growing")
    with source.snapshot() as snap:
        assert isinstance(snap["epoch"], int)
        vertica.insert(t, big_rows(50, start=100))  # committed after the job started
        n = 0
        for p in source.partitions(table, target=3):
            n += sum(b.num_rows for b in source.read(p, snapshot=snap, batch_rows=64, cancel=NeverCancelled()))
    assert n == 100
    assert _read_all(source, table, target=3).num_rows == 150  # a new job sees the new rows


# ------------------------------------------------------------------------------ connections


def test_url_options_and_password_sources(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    opts = connection_options(
        "vertica://alice:p%40ss@db1:5444/warehouse?tlsmode=require&connection_load_balance=1"
        "&backup_server_node=db2:5433,db3&connection_timeout=2.5"
    )
    assert opts["host"] == "db1" and opts["port"] == 5444 and opts["database"] == "warehouse"
    assert opts["password"] == "p@ss" and "p@ss" in known_secrets()
    assert opts["tlsmode"] == "require" and opts["connection_load_balance"] is True
    assert opts["backup_server_node"] == [("db2", 5433), ("db3", 5433)]
    assert opts["connection_timeout"] == 2.5 and opts["binary_transfer"] is True
    monkeypatch.setenv("ADU_VPW", "from-env")
    assert connection_options("vertica://a@h/d?password_env=ADU_VPW")["password"] == "from-env"
    secret = tmp_path / "pw"
    secret.write_text("from-file\n")
    assert connection_options("vertica://a@h/d", {"password_file": str(secret)})["password"] == "from-file"
    with pytest.raises(UsageError, match="unknown Vertica URL option"):
        connection_options("vertica://a@h/d?sslmode=on")
    with pytest.raises(UsageError, match="not set"):
        connection_options("vertica://a@h/d?password_env=ADU_NOT_SET_ANYWHERE")
    assert parse_nodes("[::1]:5434, h") == [("::1", 5434), ("h", 5433)]


def test_wrong_password_is_a_connect_error(vertica: VerticaEnv) -> None:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(vertica.url)
    bad = urlunsplit(parts._replace(netloc=f"{parts.username}:Wr0ng-Pa55@{parts.hostname}:{parts.port}"))
    src = VerticaSource(bad)
    with pytest.raises(ConnectError) as info:
        src.discover()
    assert info.value.sqlstate == "28000"
    assert "Wr0ng-Pa55" not in str(info.value) and "credentials" in str(info.value)
    assert "Wr0ng-Pa55" not in repr(src) and "Wr0ng-Pa55" not in str(src.info.__self__)
    assert isinstance(info.value, UsageError)  # exit code 2


def test_unreachable_node_fails_over_to_backup(vertica: VerticaEnv) -> None:
    import socket
    from urllib.parse import urlsplit, urlunsplit

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    parts = urlsplit(vertica.url)
    down = urlunsplit(parts._replace(netloc=f"{parts.username}:{parts.password}@127.0.0.1:{dead}"))
    with pytest.raises(ConnectError, match="cannot connect"):
        VerticaSource(down).discover()
    sep = "&" if parts.query else ""
    with_backup = down + f"{sep}backup_server_node={parts.hostname}:{parts.port}"
    src = VerticaSource(with_backup)
    try:
        assert _table(src, "events").row_estimate == BIG_ROWS
    finally:
        src.close()


def test_load_balanced_connections_spread_over_nodes(vertica: VerticaEnv) -> None:
    server = vertica.require_fake("load balancing needs several nodes")
    server.cluster.load_balance = True
    try:
        before = len(server.cluster.startups)
        src = VerticaSource(vertica.url + "&connection_load_balance=1")
        table = _table(src, "events")
        assert _read_all(src, table, target=4).num_rows == BIG_ROWS
        src.close()
    finally:
        server.cluster.load_balance = False
    assert len(server.cluster.startups) > before


# ------------------------------------------------------------------------------ faults


def test_node_lost_mid_export_is_retryable_and_the_retry_has_no_duplicates(
    vertica: VerticaEnv, source: VerticaSource
) -> None:
    server = vertica.require_fake("drops a connection mid-result")
    table = _table(source, "events")
    part = source.partitions(table, target=1)[0]
    with source.snapshot() as snap:
        server.cluster.faults.drop_table = "events"
        server.cluster.faults.drop_after_rows = 5000
        first: list[int] = []
        with pytest.raises(SourceError) as info:
            for b in source.read(part, snapshot=snap, batch_rows=1000, cancel=NeverCancelled()):
                first += b.column(0).to_pylist()
        assert info.value.retryable
        assert 0 < len(first) < BIG_ROWS
        again: list[int] = []
        for b in source.read(part, snapshot=snap, batch_rows=1000, cancel=NeverCancelled()):
            again += b.column(0).to_pylist()
    assert len(again) == BIG_ROWS and len(set(again)) == BIG_ROWS


def test_table_without_privilege_fails_alone(vertica: VerticaEnv) -> None:
    from vertica_tables import secret_table

    url = vertica.deny(secret_table())
    src = VerticaSource(url)
    try:
        tables = {t.name: t for t in src.discover() if t.schema == SCHEMA}
        with src.snapshot() as snap:
            part = src.partitions(tables["payroll"], target=1)[0]
            with pytest.raises(SourceError) as info:
                list(src.read(part, snapshot=snap, batch_rows=100, cancel=NeverCancelled()))
            assert info.value.sqlstate == "42501" and not info.value.retryable
            assert "SELECT privilege" in str(info.value) and "payroll" in str(info.value)
            ok = src.partitions(tables["plain"], target=1)[0]
            assert sum(b.num_rows for b in src.read(ok, snapshot=snap, batch_rows=500, cancel=NeverCancelled())) == 1000
    finally:
        src.close()


def test_cancel_stops_the_server_query(vertica: VerticaEnv, source: VerticaSource) -> None:
    server = vertica.require_fake("slows the query down to cancel it")
    table = _table(source, "events")
    part = source.partitions(table, target=1)[0]
    token = threading.Event()
    server.cluster.faults.chunk_delay = 0.02
    server.cluster.faults.rows_per_chunk = 200
    try:
        before = len(server.cluster.cancelled)
        got = 0
        with source.snapshot() as snap, pytest.raises(Cancelled):
            for b in source.read(part, snapshot=snap, batch_rows=200, cancel=token):
                got += b.num_rows
                token.set()
        assert got < BIG_ROWS
        for _ in range(200):  # the session notices the CancelRequest between chunks
            if len(server.cluster.cancelled) > before:
                break
            threading.Event().wait(0.05)
        assert len(server.cluster.cancelled) > before
    finally:
        server.cluster.faults.chunk_delay = 0.0
        server.cluster.faults.rows_per_chunk = ROWS_PER_CHUNK


def test_registered_as_a_plugin() -> None:
    from adu_core.plugin.manager import Plugins

    plugins = Plugins(load_entrypoints=False)
    assert plugins.source_class("vertica://u@h/db") is VerticaSource


def test_dates_before_christ_and_after_9999_survive(vertica: VerticaEnv) -> None:
    """The driver itself refuses these (NotSupportedError); the binary decoder does not."""
    import numpy as np
    from vertica_engine import ColumnDef, TableDef

    server = vertica.require_fake("writes BC dates straight into the test server's tables")
    t = TableDef(
        SCHEMA,
        "ancient",
        [ColumnDef("id", "int", False), ColumnDef("d", "date"), ColumnDef("ts", "timestamp")],
        primary_key=("id",),
        segmented_by=("id",),
    )
    vertica.create(t)
    server.engine.insert_sql(
        SCHEMA,
        "ancient",
        "VALUES (1, DATE '0044-03-15 (BC)', DATE '0044-03-15 (BC)' + INTERVAL 12 HOUR),"
        " (2, DATE '12345-01-01', TIMESTAMP '12345-01-01 00:00:01')",
    )
    src = VerticaSource(vertica.url)
    try:
        got = _read_all(src, _table(src, "ancient")).sort_by("id")
    finally:
        src.close()
    days = got.column("d").cast("int32").to_pylist()
    want = [int(np.datetime64(d, "D").astype(np.int64)) for d in ("-0043-03-15", "12345-01-01")]
    assert days == want
    us = got.column("ts").cast("int64").to_pylist()
    assert us[0] == want[0] * 86_400_000_000 + 12 * 3_600_000_000
    assert us[1] == want[1] * 86_400_000_000 + 1_000_000


def test_views_when_asked(vertica: VerticaEnv) -> None:
    from vertica_engine import ColumnDef

    server = vertica.require_fake("creates a view in the test server")
    server.engine.create_view(
        SCHEMA,
        "recent",
        f"SELECT id, name FROM {SCHEMA}.events WHERE id >= 19990",
        [ColumnDef("id", "int"), ColumnDef("name", "varchar(40)")],
    )
    src = VerticaSource(vertica.url)
    try:
        assert "recent" not in {t.name for t in src.discover()}
        view = next(t for t in src.discover(include_views=True) if t.name == "recent")
        assert view.kind == "view" and [c.source_type for c in view.columns] == ["int", "varchar(40)"]
        got = _read_all(src, view, target=2)
    finally:
        src.close()
    assert sorted(got.column("id").to_pylist()) == list(range(19990, 20000))


def test_infinite_timestamps_follow_the_policy(vertica: VerticaEnv) -> None:
    from vertica_engine import ColumnDef, TableDef

    server = vertica.require_fake("writes infinity straight into the test server's tables")
    t = TableDef(
        SCHEMA,
        "forever",
        [ColumnDef("id", "int", False), ColumnDef("ts", "timestamp"), ColumnDef("tz", "timestamptz")],
        primary_key=("id",),
        segmented_by=("id",),
    )
    vertica.create(t)
    server.engine.insert_sql(
        SCHEMA,
        "forever",
        "SELECT * FROM (VALUES (1, 'infinity'::TIMESTAMP, '-infinity'::TIMESTAMPTZ),"
        " (2, '2020-01-01'::TIMESTAMP, NULL::TIMESTAMPTZ))",
    )
    results = {}
    for policy in ("error", "null", "clamp"):
        src = VerticaSource(vertica.url, {"infinity": policy})
        try:
            table = _table(src, "forever")
            if policy == "error":
                with pytest.raises(SourceError, match="infinity") as info:
                    _read_all(src, table)
                assert "'ts'" in str(info.value) and not info.value.retryable
                continue
            results[policy] = _read_all(src, table).sort_by("id").to_pylist()
        finally:
            src.close()
    assert results["null"][0]["ts"] is None and results["null"][0]["tz"] is None
    assert results["null"][1]["ts"] == dt.datetime(2020, 1, 1)
    assert results["clamp"][0]["ts"] == dt.datetime(9999, 12, 31, 23, 59, 59, 999999)
    assert results["clamp"][0]["tz"] == dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(UsageError):
        VerticaSource(vertica.url, {"infinity": "zero"})
