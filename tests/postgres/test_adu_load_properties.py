"""Hypothesis through the whole loop (issue 16): random rows of many types — numerics of
every kind, text, bytea, dates and times with and without zones, intervals, uuid, jsonb,
oid, inet, arrays with NULLs, ranges, an enum — written into PostgreSQL, exported by
``adu.export`` and loaded by ``adu.load`` (the same jobs as ``adu export`` / ``adu load``:
the engine, the verification of the export, the job store), give a target whose rows
equal the source's (the multiset of ``t::text``)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import adu_core as adu
import pytest
from adu_core.models import JobStatus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pg_load_helpers import row_texts, stage_tables
from test_pg_load_properties import COLUMNS, INSERT, _params, row

MOODS = ("sad", "ok", "happy", 'it\'s "fine"')
EXTRA = ", ip inet, arr int[], rng int4range, mood mood"

extra = st.fixed_dictionaries(
    {
        "arr": st.one_of(st.none(), st.lists(st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)), max_size=5)),
        "rng": st.one_of(
            st.none(),
            st.just("empty"),
            st.tuples(st.integers(-1000, 1000), st.integers(0, 50)).map(lambda v: f"[{v[0]},{v[0] + v[1] + 1})"),
            st.integers(-1000, 1000).map(lambda v: f"({v},)"),
        ),
        "mood": st.one_of(st.none(), st.sampled_from(MOODS)),
    }
)
_round = itertools.count()


@pytest.fixture(scope="module")
def world(pg: Any, tmp_path_factory: Any) -> Iterator[dict[str, Any]]:
    base = tmp_path_factory.mktemp("lhyp")
    mp = pytest.MonkeyPatch()
    mp.setenv("ADU_DATA_DIR", str(base / "data"))
    mp.delenv("ADU_STORE_URL", raising=False)
    src = pg.create_database("lhyp")
    dst = pg.create_database("lhyp_t")
    quoted = ", ".join("'" + m.replace("'", "''") + "'" for m in MOODS)
    src.execute(f"CREATE TYPE mood AS ENUM ({quoted}); CREATE TABLE h ({COLUMNS}{EXTRA})")
    try:
        yield {"base": base, "src": src, "dst": dst, "pg": pg}
    finally:
        src.drop()
        dst.drop()
        mp.undo()


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(rows=st.lists(st.tuples(row, extra), min_size=0, max_size=10))
def test_random_rows_exported_and_loaded_by_the_jobs_equal_the_source(world, rows) -> None:
    src, dst, pg = world["src"], world["dst"], world["pg"]
    src.execute("TRUNCATE h")
    for i, (r, x) in enumerate(rows):
        src.execute(
            INSERT.format(t="h", extra=", %s, %s, %s::int4range, %s::mood"),
            [*_params(i, r), r["ip"], x["arr"], x["rng"], x["mood"]],
        )
    out = world["base"] / f"export{next(_round)}"
    exported = adu.export(src.dsn, out, tables=["public.h"], password=pg.password, validate=False, parallel=2)
    assert exported.status == JobStatus.SUCCEEDED, [(t.qualified_name, t.error) for t in exported.tables]
    loaded = adu.load(out, dst.dsn, password=pg.password, if_exists="replace", parallel=2)
    assert loaded.status == JobStatus.SUCCEEDED, (loaded.error, [t.error for t in loaded.tables])
    assert loaded.tables[0].rows == len(rows)
    assert row_texts(dst.dsn, "public", "h") == row_texts(src.dsn, "public", "h")
    assert stage_tables(dst.dsn) == []
