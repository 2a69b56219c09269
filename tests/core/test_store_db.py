"""The store's connection layer (adu_core.store.db) on SQLite and on the throwaway
PostgreSQL: parameters, rows, transactions, connections across fork, and which driver
errors are an outage."""

import logging
import multiprocessing
import sqlite3

import psycopg2
import pytest
from adu_core.errors import UsageError
from adu_core.models import JobSpec
from adu_core.store import Store
from adu_core.store.db import Database, _pyformat, in_list, parse_url
from adu_core.store.resilience import is_outage


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'adu.db'}"
        return
    db = request.getfixturevalue("pg").create_database("storedb")
    try:
        yield db.dsn
    finally:
        db.drop()


def test_parameters_are_translated_once_for_psycopg2_and_lists_expanded():
    assert _pyformat("SELECT x::text FROM t WHERE a = :a AND b LIKE '5%' AND c = :c_1") == (
        "SELECT x::text FROM t WHERE a = %(a)s AND b LIKE '5%%' AND c = %(c_1)s"
    )
    assert in_list("s", ["a", "b"]) == (":s_0, :s_1", {"s_0": "a", "s_1": "b"})
    assert in_list("s", []) == ("NULL", {})  # `x IN (NULL)`: never true, still valid SQL


@pytest.mark.parametrize(
    ("url", "dialect", "where"),
    [
        ("sqlite:////abs/adu.db", "sqlite", "/abs/adu.db"),
        ("sqlite:///rel/adu.db", "sqlite", "rel/adu.db"),
        ("sqlite://", "sqlite", None),
        ("postgresql+psycopg2://u:p%40w@h:5433/db?sslmode=require", "postgresql", "postgresql://u:p%40w@h:5433/db"),
        ("postgres://u@h/db", "postgresql", "postgresql://u@h/db"),
    ],
)
def test_store_urls(url, dialect, where):
    target = parse_url(url)
    assert target.dialect == dialect
    assert (target.path if dialect == "sqlite" else target.dsn.split("?")[0]) == where


@pytest.mark.parametrize("url", ["nonsense", "mysql://u@h/db", "postgresql://u@h:port/db", "sqlite+other:///x"])
def test_bad_store_urls_are_usage_errors(url):
    with pytest.raises(UsageError):
        parse_url(url)


def test_rows_have_attribute_access_and_text_round_trips(store_url):
    store = Store(store_url)
    try:
        name = "50% done: 'quoted' :not_a_parameter"
        job_id = store.create_job(JobSpec(source="postgresql://u@h/db", target="/tmp/o", name=name))
        assert store.get_job(job_id).name == name
        with store.db.read() as conn:
            row = conn.execute("SELECT id, name FROM jobs WHERE name LIKE :p", {"p": "50%"}).one()
            assert (row.id, row.name) == (job_id, name) and row[0] == job_id
            assert conn.execute("SELECT count(*) FROM jobs WHERE id IN (NULL)").scalar_one() == 0
    finally:
        store.dispose()


def test_a_failed_write_is_rolled_back_and_its_connection_reused(store_url):
    store = Store(store_url)
    try:
        with pytest.raises((sqlite3.Error, psycopg2.Error)), store.db.write() as conn:
            conn.execute("INSERT INTO workers (id, started_at, heartbeat_at) VALUES ('w', 1, 1)")
            conn.execute("SELECT no_such_column FROM workers")
        assert store.list_workers() == []  # rolled back
        assert len(store.db._idle) == 1  # the connection went back to the pool
    finally:
        store.dispose()


def _child(url: str, out) -> None:
    store = _PARENT[0]  # the parent's store object, inherited through fork
    try:
        out.put(store.count_jobs())
        store.create_job(JobSpec(source="postgresql://u@h/db", target="/tmp/child"))
        store.dispose()
        out.put("ok")
    except Exception as exc:  # reported to the parent
        out.put(repr(exc))


_PARENT: list = []


def test_a_forked_child_never_uses_or_closes_its_parents_connections(store_url):
    store = Store(store_url)
    try:
        store.create_job(JobSpec(source="postgresql://u@h/db", target="/tmp/parent"))
        (parents,) = store.db._idle  # the parent's pooled connection
        _PARENT[:] = [store]
        ctx = multiprocessing.get_context("fork")
        out = ctx.Queue()
        child = ctx.Process(target=_child, args=(store_url, out))
        child.start()
        assert [out.get(timeout=60), out.get(timeout=60)] == [1, "ok"]
        child.join(timeout=60)
        assert child.exitcode == 0
        # the parent's connection is intact (the child neither used nor closed it)
        assert store.db._idle == [parents]
        assert store.count_jobs() == 2
        assert store.db._idle == [parents]
    finally:
        _PARENT.clear()
        store.dispose()


def test_which_driver_errors_are_outages():
    assert is_outage(sqlite3.OperationalError("database is locked"))
    assert is_outage(sqlite3.OperationalError("unable to open database file"))
    assert not is_outage(sqlite3.OperationalError("no such table: jobs"))
    assert not is_outage(sqlite3.IntegrityError("UNIQUE constraint failed"))
    assert is_outage(psycopg2.OperationalError("server closed the connection unexpectedly"))
    assert is_outage(psycopg2.InterfaceError("connection already closed"))
    assert not is_outage(psycopg2.ProgrammingError("syntax error"))
    assert not is_outage(ValueError("not a driver error"))


def test_a_postgresql_connection_that_died_while_idle_is_replaced(pg, caplog):
    db = pg.create_database("idle")
    store = Store(db.dsn)
    try:
        store.count_jobs()
        (old,) = store.db._idle
        pg.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (db.name,),
        )
        with caplog.at_level(logging.WARNING, logger="adu.store"):
            assert store.count_jobs() == 0
        assert caplog.records == []  # the pre-ping found it dead: a new connection, no outage, no retry
        assert store.db._idle != [old] and old.closed
        store.ping()
    finally:
        store.dispose()
        db.drop()


def test_an_in_memory_store_keeps_its_one_connection():
    db = Database("sqlite://")
    with db.write() as conn:
        conn.execute("CREATE TABLE t (x INTEGER)")
        conn.execute("INSERT INTO t VALUES (1)")
    with db.read() as conn:
        assert conn.execute("SELECT x FROM t").scalars() == [1]
    db.dispose()
