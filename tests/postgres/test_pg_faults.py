"""Faults: a backend killed mid-COPY, a server restart, cancellation, missing privileges,
timeouts, and the locks an export takes."""

from __future__ import annotations

import threading

import psycopg2
import pytest
from adu_core.errors import Cancelled, SourceError
from adu_core.plugin.components import NeverCancelled
from adu_postgres.connection import connect
from adu_postgres.copystream import CopyCancelled, stream_copy
from pg_helpers import find, open_source, read_table
from pgserver import wait_for

ROWS = 200_000


@pytest.fixture(scope="module")
def big_db(pg):
    db = pg.create_database("faults")
    db.execute(
        "CREATE TABLE big (id int, pad text);"
        f"INSERT INTO big SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, {ROWS}) g;"
    )
    try:
        yield db
    finally:
        db.drop()


def _reader(source, table, batch_rows=500, cancel=None):
    (part,) = source.partitions(table, target=1)
    return source.read(part, snapshot={}, batch_rows=batch_rows, cancel=cancel or NeverCancelled())


def _copy_backends(pg, dbname):
    return pg.execute(
        "SELECT pid, state, query FROM pg_stat_activity WHERE datname = %s AND query LIKE 'COPY%%'"
        " AND pid <> pg_backend_pid()",
        (dbname,),
    )


def test_terminated_backend_is_a_retryable_error(pg, big_db) -> None:
    source = open_source(big_db.dsn)
    table = find(source.discover(), "public.big")
    reader = _reader(source, table)
    next(reader)
    assert wait_for(lambda: _copy_backends(pg, big_db.name))
    killed = pg.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND query LIKE 'COPY%%'",
        (big_db.name,),
    )
    assert killed == [(True,)]
    with pytest.raises(SourceError) as err:
        for _ in reader:
            pass
    assert err.value.retryable
    assert err.value.sqlstate in (None, "57P01") or err.value.sqlstate.startswith("08")
    # the next attempt reads every row
    assert read_table(source, table).num_rows == ROWS


def test_server_restart_mid_read_is_retryable(pg, big_db) -> None:
    source = open_source(big_db.dsn)
    table = find(source.discover(), "public.big")
    reader = _reader(source, table)
    next(reader)
    pg.restart()
    with pytest.raises(SourceError) as err:
        for _ in reader:
            pass
    assert err.value.retryable
    source.close()
    assert read_table(open_source(big_db.dsn), table).num_rows == ROWS


def test_cancel_stops_the_server_side_copy(pg, big_db) -> None:
    source = open_source(big_db.dsn)
    table = find(source.discover(), "public.big")
    cancel = threading.Event()
    reader = _reader(source, table, cancel=cancel)
    next(reader)
    assert wait_for(lambda: _copy_backends(pg, big_db.name))
    cancel.set()
    with pytest.raises(Cancelled):
        for _ in reader:
            pass
    assert wait_for(lambda: not [r for r in _copy_backends(pg, big_db.name) if r[1] == "active"])


def test_cancel_reaches_the_server_not_only_the_client(pg, big_db) -> None:
    """Keep the connection open after the cancel: its backend is no longer running the COPY."""
    conn = connect(big_db.dsn, {})
    try:
        pid = conn.get_backend_pid()
        cancel = threading.Event()
        import pyarrow as pa

        stream = stream_copy(
            conn,
            # 4M rows (56 MB): far more than the socket buffers hold, so the backend is
            # still sending when we look, however fast it runs
            "COPY (SELECT id FROM big CROSS JOIN generate_series(1, 20)) TO STDOUT (FORMAT binary)",
            pa.schema([("id", pa.int32())]),
            [(2, 0, 0, 0)],
            batch_rows=100,
            cancel=cancel,
        )
        next(stream)
        assert pg.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,)) == [("active",)]
        cancel.set()
        with pytest.raises(CopyCancelled):
            next(stream)
            next(stream)
        assert wait_for(lambda: pg.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,)) == [("idle",)])
    finally:
        conn.close()


def test_missing_privilege_names_it(pg, pg_db) -> None:
    role = f"reader_{pg_db.name}"
    pg_db.execute(
        "CREATE TABLE open_t (id int); CREATE TABLE secret_t (id int);"
        "INSERT INTO open_t VALUES (1); INSERT INTO secret_t VALUES (2);"
        f"CREATE ROLE {role} LOGIN PASSWORD %s; GRANT SELECT ON open_t TO {role}",
        (pg.password,),
    )
    try:
        source = open_source(pg.url(dbname=pg_db.name, user=role))
        tables = source.discover()
        secret = find(tables, "public.secret_t")
        assert secret.properties["readable"] is False
        with pytest.raises(SourceError, match=r"permission denied.*SELECT") as err:
            read_table(source, secret)
        assert err.value.sqlstate == "42501" and not err.value.retryable
        assert "secret_t" in str(err.value)
        assert read_table(source, find(tables, "public.open_t")).num_rows == 1  # the others go on
        source.close()
    finally:
        pg_db.execute(f"DROP OWNED BY {role}; DROP ROLE {role}", superuser=True)


def test_statement_timeout_option(big_db) -> None:
    table = find(open_source(big_db.dsn).discover(), "public.big")
    source = open_source(big_db.dsn, statement_timeout="1ms")
    with pytest.raises(SourceError, match="statement timeout") as err:
        read_table(source, table)
    assert err.value.sqlstate == "57014"


def test_lock_timeout_option_and_only_access_share_locks(pg, big_db) -> None:
    source = open_source(big_db.dsn, lock_timeout="200ms")
    table = find(source.discover(), "public.big")
    # while reading, the reader holds only ACCESS SHARE on relations
    reader = _reader(source, table)
    next(reader)
    modes = pg.execute(
        "SELECT DISTINCT l.mode FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE a.datname = %s AND a.query LIKE 'COPY%%' AND l.locktype = 'relation'",
        (big_db.name,),
    )
    assert modes == [("AccessShareLock",)]
    reader.close()
    # a writer holding ACCESS EXCLUSIVE makes the read fail after lock_timeout
    blocker = psycopg2.connect(big_db.dsn)
    try:
        with blocker.cursor() as cur:
            cur.execute("LOCK TABLE big IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(SourceError, match="lock timeout") as err:
            read_table(source, table)
        assert err.value.sqlstate == "55P03"
    finally:
        blocker.rollback()
        blocker.close()
