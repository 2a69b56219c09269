"""The coordinator's connections: opened in the background, lent to the partitions.

``warm_up`` opens the coordinator's, the snapshot's and spare readers' connections while
discovery runs; ``lend`` lets the partitions read in the coordinator's process use the
coordinator's connection and the spares before opening their own. The promises still
hold: every partition reads the job's snapshot, a partition's locks end with it, the
snapshot's session never reads (a reader may be terminated and retried, it may not), and
a failed read on a lent connection loses nothing but that connection.
"""

from __future__ import annotations

import threading
import time

import pyarrow as pa
import pytest
from adu_core.errors import Cancelled
from adu_core.plugin.components import NeverCancelled
from adu_postgres import source as pg_source
from adu_postgres.source import PostgresSource
from pg_helpers import find, open_source

OPTIONS = {"partition_mb": 0.2}


@pytest.fixture
def table_a(pg_db):
    pg_db.execute(
        "CREATE TABLE a (id int PRIMARY KEY, v text);"
        "INSERT INTO a SELECT g, repeat('v', 100) FROM generate_series(1, 20000) g;"
    )
    return pg_db


@pytest.fixture
def connects(monkeypatch):
    """The application names of the connections the PostgreSQL source opens."""
    seen: list[str] = []
    lock = threading.Lock()
    real = pg_source.connect

    def connect(url, options, *, application_name="adu"):
        with lock:
            seen.append(application_name)
        return real(url, options, application_name=application_name)

    monkeypatch.setattr(pg_source, "connect", connect)
    return seen


def _sessions(db, application_name: str) -> int:
    """Sessions of the database with that name, once the closed ones have gone (a server
    process ends a moment after its client closed the connection)."""
    for _ in range(50):
        n = db.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()"
            " AND pid <> pg_backend_pid()",
            (application_name,),
            superuser=True,
        )[0][0]
        if n == 0:
            return 0
        time.sleep(0.1)
    return n


def _locks_on_a(db, application_name: str) -> int:
    return db.execute(
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity s USING (pid)"
        " WHERE s.application_name = %s AND l.relation = 'public.a'::regclass",
        (application_name,),
        superuser=True,
    )[0][0]


def test_lent_connections_read_the_jobs_snapshot_and_keep_no_lock(table_a, connects) -> None:
    db = table_a
    coordinator = open_source(db.dsn, **OPTIONS)
    coordinator.warm_up(readers=1)  # three connections open in the background
    table = find(coordinator.discover(), "public.a")
    with coordinator.snapshot() as snap:
        db.execute("INSERT INTO a SELECT g, 'new' FROM generate_series(20001, 25000) g; UPDATE a SET v = 'x'")
        parts = coordinator.partitions(table, target=3)
        assert len(parts) == 3
        # three readers of this process (as the executor's threads have), all reading at once
        readers = [PostgresSource(db.dsn, OPTIONS) for _ in parts]
        with coordinator.lend():
            streams = [
                r.read(p, snapshot=snap, batch_rows=1000, cancel=NeverCancelled())
                for r, p in zip(readers, parts, strict=True)
            ]
            batches = [next(s) for s in streams]  # every read has begun: two lent, one opened
            assert sorted(connects) == ["adu", "adu reader", "adu reader", "adu snapshot"]
            assert _locks_on_a(db, "adu") == 1  # the coordinator's connection reads a partition
            assert _locks_on_a(db, "adu snapshot") == 0  # the snapshot's session never reads
            for s in streams:
                batches.extend(s)
            # the partition read on the coordinator's connection ended: so did its lock
            assert _locks_on_a(db, "adu") == 0
        for r in readers:
            r.close()
        rows = pa.Table.from_batches(batches, schema=table.arrow_schema())
        assert rows.num_rows == 20000
        assert set(rows.column("v").to_pylist()) == {"v" * 100}
    # the coordinator has its connection back, open; the spare is closed
    assert coordinator._conn is not None and not coordinator._conn.closed
    find(coordinator.discover(), "public.a")
    assert len(connects) == 4
    assert _sessions(db, "adu reader") == 0
    coordinator.close()


def test_a_failed_read_on_a_lent_connection_closes_it_and_keeps_the_snapshot(table_a, connects) -> None:
    db = table_a
    coordinator = open_source(db.dsn, **OPTIONS)
    table = find(coordinator.discover(), "public.a")

    class CancelSoon:
        n = 0

        def is_set(self) -> bool:
            self.n += 1
            return self.n > 2

        def wait(self, timeout=None) -> bool:
            return self.is_set()

    with coordinator.snapshot() as snap:
        db.execute("DELETE FROM a WHERE id > 10000")
        (part,) = coordinator.partitions(table, target=1)
        reader = PostgresSource(db.dsn, OPTIONS)
        with coordinator.lend():
            with pytest.raises(Cancelled):
                for _ in reader.read(part, snapshot=snap, batch_rows=100, cancel=CancelSoon()):
                    pass
            assert connects == ["adu", "adu snapshot"]  # the coordinator's was lent...
            # ...and closed after the failed read: the next read opens its own
            again = list(reader.read(part, snapshot=snap, batch_rows=5000, cancel=NeverCancelled()))
            assert sum(b.num_rows for b in again) == 20000
            assert connects == ["adu", "adu snapshot", "adu reader"]
        reader.close()
    assert _sessions(db, "adu") == 0
    coordinator.close()


def test_connections_opened_in_the_background_are_closed_unused(table_a) -> None:
    db = table_a
    source = open_source(db.dsn)
    source.warm_up(readers=2)
    source.discover()
    source.close()  # the job ended before its snapshot (nothing selected, bad input...)
    for name in ("adu", "adu snapshot", "adu reader"):
        assert _sessions(db, name) == 0, name


def test_a_failed_background_connect_is_the_same_error_as_before(pg) -> None:
    from adu_core.errors import ConnectError

    source = PostgresSource(pg.url(password="wrong"), {})
    source.warm_up()
    with pytest.raises(ConnectError, match="cannot connect to PostgreSQL"):
        source.discover()
    source.close()


def test_discovery_reads_the_type_facts_on_the_idle_snapshot_connection(table_a, monkeypatch) -> None:
    from adu_postgres import pgtypes

    db = table_a
    db.execute("CREATE DOMAIN pos AS int CHECK (VALUE > 0); CREATE TABLE b (id pos PRIMARY KEY, m money)")
    alone = open_source(db.dsn)
    expected = {t.qualified_name: t for t in alone.discover()}
    alone.close()
    source = open_source(db.dsn)
    source.warm_up()
    side = source._snapshot_future.result()  # connected
    used: list = []
    real = pgtypes.describe

    def describe(conn, oids):
        used.append(conn)
        return real(conn, oids)

    monkeypatch.setattr(pgtypes, "describe", describe)
    tables = {t.qualified_name: t for t in source.discover()}
    assert used == [side] and side is not source._conn
    assert tables == expected  # the same answer, every column, key and type fact
    # the snapshot's connection is idle again: the snapshot is taken on it
    table = tables["public.a"]
    with source.snapshot() as snap:
        (part,) = source.partitions(table, target=1)
        rows = list(source.read(part, snapshot=snap, batch_rows=50_000, cancel=NeverCancelled()))
    assert sum(b.num_rows for b in rows) == 20000
    source.close()


def test_closing_never_waits_for_a_connection_still_being_opened(monkeypatch) -> None:
    """A job that fails before it needs the source (a bad --after) must not wait for a
    host that does not answer: what is still connecting is closed when it arrives."""
    release = threading.Event()
    closed: list[str] = []

    class Conn:
        closed = False

        def __init__(self, name: str) -> None:
            self.name = name

        def close(self) -> None:
            closed.append(self.name)

    def slow_connect(url, options, *, application_name="adu"):
        release.wait(30)
        return Conn(application_name)

    monkeypatch.setattr(pg_source, "connect", slow_connect)
    source = PostgresSource("postgresql://u@203.0.113.1/db", {})
    source.warm_up(readers=1)
    source.close()  # returns while the three are still connecting
    assert closed == []
    release.set()
    for _ in range(100):
        if len(closed) == 3:
            break
        time.sleep(0.05)
    assert sorted(closed) == ["adu", "adu reader", "adu snapshot"]


@pytest.mark.parametrize(
    ("tables", "opened"),
    [
        # one named table of one partition: read on the coordinator's connection, no spare
        (["public.small"], ["adu", "adu snapshot"]),
        # one named table of several partitions: the spare opens once the plan says so
        (["public.a"], ["adu", "adu snapshot", "adu reader"]),
        # several tables: the spare opens with the others, while discovery runs
        (["public.small", "public.a"], ["adu", "adu snapshot", "adu reader"]),
        (["public.*"], ["adu", "adu snapshot", "adu reader"]),
    ],
)
def test_a_job_opens_the_spare_readers_its_plan_needs(table_a, connects, tmp_path, monkeypatch, tables, opened):
    import adu_core as adu

    table_a.execute("CREATE TABLE small (id int); INSERT INTO small VALUES (1)")
    monkeypatch.setenv("ADU_DATA_DIR", str(tmp_path / "data"))
    result = adu.export(
        table_a.dsn,
        tmp_path / "out",
        tables=tables,
        parallel=2,
        validate=False,
        executor="thread",
        source_options=OPTIONS,
    )
    assert result.status.value == "succeeded"
    rows = {"public.small": 1, "public.a": 20000}
    assert {t.qualified_name: t.rows for t in result.tables} == {
        name: n for name, n in rows.items() if tables == ["public.*"] or name in tables
    }
    assert sorted(connects) == sorted(opened)


def test_the_source_opened_before_the_job_is_recorded_is_its_own(table_a, connects, tmp_path, monkeypatch):
    """``adu export`` opens the source before recording the job (its connections open while
    the store works): the job uses those; with bad options none opens, the error is at once."""
    import adu_core as adu
    from adu_core.errors import UsageError

    monkeypatch.setenv("ADU_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(UsageError, match="nope"):
        adu.export(table_a.dsn, tmp_path / "bad", tables=["public.a"], sink_options={"nope": "1"})
    with pytest.raises(UsageError, match="nope"):
        adu.export(table_a.dsn, tmp_path / "bad", tables=["public.a"], source_options={"nope": "1"})
    assert connects == []
    # options given as text are typed as the job types them: the source opened early is the job's
    result = adu.export(
        table_a.dsn, tmp_path / "out", tables=["public.a"], validate=False, source_options={"partition_mb": "64"}
    )
    assert result.status.value == "succeeded" and result.rows == 20000
    assert sorted(connects) == ["adu", "adu snapshot"]
    assert _sessions(table_a, "adu") == 0 and _sessions(table_a, "adu snapshot") == 0  # all closed


def test_a_delta_of_one_table_opens_its_spare_reader_before_its_plan(table_a, connects, tmp_path, monkeypatch):
    """A delta is short and its changed rows are split from 10,000 of them: its spare reader
    opens with the coordinator's connections, not after the plan (where its TLS and
    authentication delayed the second partition); a whole table waits for its plan."""
    import adu_core as adu

    table_a.execute("ALTER TABLE a ADD COLUMN n int NOT NULL DEFAULT 0")
    monkeypatch.setenv("ADU_DATA_DIR", str(tmp_path / "data"))
    at_plan: list[list[str]] = []
    real = PostgresSource.partitions

    def partitions(self, table, *, target):
        at_plan.append(list(connects))
        return real(self, table, target=target)

    monkeypatch.setattr(PostgresSource, "partitions", partitions)
    cursor = {"public.a": "n"}
    kw = {"tables": ["public.a"], "parallel": 2, "validate": False, "executor": "thread", "source_options": OPTIONS}
    full = adu.export(table_a.dsn, tmp_path / "full", cursors=cursor, **kw)
    assert full.status.value == "succeeded"
    assert "adu reader" not in at_plan[-1]  # a whole table: the spare opens once the plan says so
    table_a.execute("UPDATE a SET n = 1")  # every row changed: a delta of 20,000 rows, split in two
    connects.clear()
    delta = adu.export(table_a.dsn, tmp_path / "delta", cursors=cursor, after="last", **kw)
    assert delta.status.value == "succeeded" and delta.rows == 20000
    assert "adu reader" in at_plan[-1]  # already opening when the delta was planned
    assert sorted(connects) == ["adu", "adu reader", "adu snapshot"]
