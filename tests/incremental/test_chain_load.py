"""Applying a chain to a PostgreSQL target (adu_postgres.chainload): a base, then deltas
merged by key (appended without one), refused out of order, a no-op when repeated, and
completed after an interruption without applying a table twice."""

from __future__ import annotations

from collections import Counter

import pytest
from adu_postgres.chainload import apply_export
from adu_postgres.loaderror import LoadError
from inc_helpers import export


def texts(db, table: str) -> Counter:
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("SET TimeZone = 'UTC'; SET extra_float_digits = 3")
        cur.execute(f"SELECT r::text FROM public.{table} AS r")
        return Counter(row[0] for row in cur.fetchall())


@pytest.fixture
def pair(pg):
    src, dst = pg.create_database("csrc"), pg.create_database("cdst")
    src.execute(
        "CREATE TABLE public.keyed (id int PRIMARY KEY, v text, ts timestamptz NOT NULL);"
        "CREATE INDEX ON public.keyed (ts);"
        "INSERT INTO public.keyed SELECT g, 'v' || g, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 s'"
        "  FROM generate_series(1, 300) g;"
        "CREATE TABLE public.logged (seq bigint, msg text);"
        "INSERT INTO public.logged SELECT g, 'm' || g FROM generate_series(1, 40) g;"
        "CREATE TABLE public.dims (code text PRIMARY KEY, label text);"
        "INSERT INTO public.dims VALUES ('a', 'A'), ('b', 'B')"
    )
    try:
        yield src, dst
    finally:
        src.drop()
        dst.drop()


TABLES = ("public.keyed", "public.logged", "public.dims")
CURSORS = {"public.keyed": "ts", "public.logged": "seq"}


def _same(src, dst) -> None:
    for t in ("keyed", "logged", "dims"):
        assert texts(dst, t) == texts(src, t), t


def test_a_base_and_deltas_applied_in_order_equal_the_source(pg, pair, adu_store, tmp_path):
    src, dst = pair
    d1, d2, d3 = tmp_path / "d1", tmp_path / "d2", tmp_path / "d3"
    export(adu_store, src, pg.password, d1, TABLES, cursors=CURSORS)
    r1 = apply_export(dst.dsn, d1, job_id="load1")
    assert r1.applied and r1.position == 0
    _same(src, dst)
    src.execute(
        "UPDATE public.keyed SET v = 'changed', ts = timestamptz '2026-06-01 00:00:00+00' WHERE id % 50 = 0;"
        "INSERT INTO public.keyed VALUES (1000, 'new', timestamptz '2026-06-01 00:00:01+00');"
        "INSERT INTO public.logged VALUES (41, 'more'), (42, 'more');"
        "UPDATE public.dims SET label = 'AA' WHERE code = 'a'; INSERT INTO public.dims VALUES ('c', 'C')"
    )
    export(adu_store, src, pg.password, d2, TABLES, after=str(d1))
    # out of order: refused, target unchanged
    export(adu_store, src, pg.password, d3, TABLES, after=str(d2))  # empty delta
    with pytest.raises(LoadError, match="refused: this delta continues manifest"):
        apply_export(dst.dsn, d3, job_id="load3")
    r2 = apply_export(dst.dsn, d2, job_id="load2")
    assert r2.applied and r2.position == 1
    assert {name: mode for name, mode, _ in r2.tables} == {
        "public.keyed": "merge",
        "public.logged": "append",
        "public.dims": "replace",
    }
    _same(src, dst)
    again = apply_export(dst.dsn, d2, job_id="load2b")
    assert not again.applied and "already the last one applied" in again.message
    _same(src, dst)
    r3 = apply_export(dst.dsn, d3, job_id="load3")
    assert r3.applied and r3.position == 2
    _same(src, dst)
    with pytest.raises(LoadError, match="refused"):
        apply_export(dst.dsn, d2, job_id="load2c")  # an old delta after a newer one
    state = dst.execute("SELECT table_name, position FROM public.adu_load_state ORDER BY table_name")
    assert state[0] == ("", 2)


def test_a_delta_needs_its_base_and_an_interrupted_load_completes(pg, pair, adu_store, tmp_path):
    src, dst = pair
    d1, d2 = tmp_path / "d1", tmp_path / "d2"
    export(adu_store, src, pg.password, d1, TABLES, cursors=CURSORS)
    src.execute("INSERT INTO public.logged VALUES (41, 'x'); UPDATE public.keyed SET ts = now() WHERE id = 1")
    export(adu_store, src, pg.password, d2, TABLES, after=str(d1))
    with pytest.raises(LoadError, match="holds no export"):
        apply_export(dst.dsn, d2, job_id="early")
    apply_export(dst.dsn, d1, job_id="base")
    # an interrupted load of d2 (tables go in name order): dims and keyed applied and
    # recorded, logged failed, the head not moved
    dst.execute(
        "CREATE FUNCTION public.stop() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'stop'; END$$;"
        "CREATE TRIGGER stop BEFORE INSERT ON public.logged EXECUTE FUNCTION public.stop()"
    )
    with pytest.raises(LoadError):
        apply_export(dst.dsn, d2, job_id="half")
    assert texts(dst, "logged") != texts(src, "logged")
    dst.execute("DROP TRIGGER stop ON public.logged")
    done = apply_export(dst.dsn, d2, job_id="rest")
    assert done.applied
    assert {name for name, mode, _ in done.tables if mode == "already applied"} == {"public.dims", "public.keyed"}
    _same(src, dst)
