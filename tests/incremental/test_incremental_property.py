"""Hypothesis: random inserts and updates (each bumping the cursor) interleaved with
`export --after last`; the full export and every delta, loaded in order into a second
database by ``adu.load`` (the load job: upserts by primary key, appends for the table
without one — append-only, as the README says), give a target equal to the source (the
multiset of ``t::text`` per table); the same merge done in Python agrees; the chain
verifies."""

from __future__ import annotations

import itertools
from collections import Counter
from decimal import Decimal

import adu_core as adu
import pytest
from adu_core.config import load
from adu_core.models import JobStatus
from adu_core.services.exports import verify_chain
from adu_core.store import Store
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inc_helpers import export, read

# one step: ("insert", n) new rows, ("update", k) rows picked by k, ("export",)
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), st.integers(0, 5)),
        st.tuples(st.just("update"), st.integers(0, 1000)),
        st.tuples(st.just("export")),
    ),
    min_size=1,
    max_size=8,
)
_round = itertools.count()


def _source_rows(db, table: str) -> Counter:
    return Counter(tuple(r) for r in db.execute(f"SELECT id, v, n, ts FROM public.{table}"))


def _texts(db, table: str) -> Counter:
    return Counter(r[0] for r in db.execute(f"SELECT r::text FROM public.{table} AS r"))


def _rows(out, table: str) -> list[tuple]:
    t = read(out, "public", table)
    if not t.num_columns:
        return []
    cols = [t.column(c).to_pylist() for c in ("id", "v", "n", "ts")]
    return [tuple(r) for r in zip(*cols, strict=True)]


@pytest.fixture(scope="module")
def world(pg, tmp_path_factory):
    base = tmp_path_factory.mktemp("prop")
    mp = pytest.MonkeyPatch()
    mp.setenv("ADU_DATA_DIR", str(base / "data"))
    mp.delenv("ADU_STORE_URL", raising=False)
    store = Store.from_settings(load())
    try:
        yield {"base": base, "store": store, "pg": pg}
    finally:
        store.dispose()
        mp.undo()


@settings(max_examples=6, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=STEPS)
def test_full_export_and_deltas_merged_in_order_equal_the_source(world, steps):
    pg, store = world["pg"], world["store"]
    n = next(_round)
    db = pg.create_database(f"prop{n}")
    target = pg.create_database(f"propt{n}")
    try:
        db.execute(
            "CREATE SEQUENCE tick;"
            "CREATE TABLE public.keyed (id int PRIMARY KEY, v text, n numeric(8,2), ts bigint NOT NULL);"
            "CREATE TABLE public.logged (id int, v text, n numeric(8,2), ts bigint NOT NULL);"
            "INSERT INTO public.keyed SELECT g, 'v' || g, g, nextval('tick') FROM generate_series(1, 20) g;"
            "INSERT INTO public.logged SELECT g, 'v' || g, g, nextval('tick') FROM generate_series(1, 5) g"
        )
        tables = ("public.keyed", "public.logged")
        cursors = {"public.keyed": "ts", "public.logged": "ts"}
        dirs = [world["base"] / f"r{n}-0"]
        export(store, db, pg.password, dirs[0], tables, cursors=cursors)
        next_id = 1000
        for step in [*steps, ("export",)]:
            if step[0] == "insert":
                for _ in range(step[1]):
                    next_id += 1
                    db.execute(
                        "INSERT INTO public.keyed VALUES (%s, 'new', 1.5, nextval('tick'));"
                        "INSERT INTO public.logged VALUES (%s, 'new', 1.5, nextval('tick'))",
                        (next_id, next_id),
                    )
            elif step[0] == "update":
                db.execute(
                    "UPDATE public.keyed SET v = v || '+', n = n + 1, ts = nextval('tick')"
                    " WHERE id = (SELECT id FROM public.keyed ORDER BY id OFFSET %s LIMIT 1)",
                    (step[1] % 20,),
                )
            else:
                dirs.append(world["base"] / f"r{n}-{len(dirs)}")
                export(store, db, pg.password, dirs[-1], tables, after="last")
        keyed: dict[int, tuple] = {}
        logged: list[tuple] = []
        for d in dirs:  # what a load applies: upserts by key, appends without one
            keyed.update((row[0], row) for row in _rows(d, "keyed"))
            logged += _rows(d, "logged")
        assert Counter(keyed.values()) == _source_rows(db, "keyed")
        assert Counter(logged) == _source_rows(db, "logged")
        assert all(isinstance(r[2], Decimal) for r in keyed.values())
        report = verify_chain(dirs)
        assert report.ok, report.lines()
        for i, d in enumerate(dirs):  # the far side: every export applied in order, by the load job
            result = adu.load(d, target.dsn, password=pg.password)
            assert result.status == JobStatus.SUCCEEDED, (result.error, [t.error for t in result.tables])
            assert any(note.startswith("chain: " + ("a full export" if i == 0 else f"delta {i} after")) for note in
                       result.notes), result.notes  # fmt: skip
        for t in ("keyed", "logged"):
            assert _texts(target, t) == _texts(db, t), t
    finally:
        db.drop()
        target.drop()
