"""Incremental exports against a real PostgreSQL: cursors, watermarks, deltas, `--after last`."""

from __future__ import annotations

import pytest
from adu_core.errors import UsageError
from adu_core.manifest import load_manifest
from inc_helpers import export, ids, manifest


@pytest.fixture
def src(pg):
    db = pg.create_database("inc")
    db.execute(
        "CREATE TABLE public.orders (id int PRIMARY KEY, amount numeric(10,2), updated_at timestamptz);"
        "CREATE INDEX ON public.orders (updated_at);"
        "INSERT INTO public.orders SELECT g, g * 1.5, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second'"
        "  FROM generate_series(1, 1000) g;"
        "INSERT INTO public.orders VALUES (5000, 1, NULL), (5001, 2, NULL);"
        "CREATE TABLE public.log (seq bigint, msg text);"  # no primary key
        "INSERT INTO public.log SELECT g, 'm' || g FROM generate_series(1, 50) g;"
        "CREATE TABLE public.dims (code text PRIMARY KEY, label text);"  # no cursor: whole in a delta
        "INSERT INTO public.dims VALUES ('a', 'A'), ('b', 'B');"
        "CREATE TABLE public.docs (id int, doc json); INSERT INTO public.docs VALUES (1, '{}');"
        "ANALYZE"
    )
    try:
        yield db
    finally:
        db.drop()


TABLES = ("public.orders", "public.log", "public.dims")
CURSORS = {"public.orders": "updated_at", "public.log": "seq"}


def test_full_export_records_watermarks_in_the_snapshot(pg, src, adu_store, tmp_path):
    d1 = tmp_path / "d1"
    export(adu_store, src, pg.password, d1, TABLES, cursors=CURSORS)
    m = manifest(d1)
    assert m["format_version"] == 1  # a full export stays readable by an ADU without chains
    assert "previous" not in m
    assert m["watermarks"] == {
        "public.log": {"column": "seq", "value": "50"},
        "public.orders": {"column": "updated_at", "value": "2026-01-01 00:16:40+00"},
    }
    orders = next(t for t in m["tables"] if t["name"] == "orders")
    assert orders["primary_key"] == ["id"]
    assert orders["cursor"] == {
        "column": "updated_at",
        "source_type": "timestamp with time zone",
        "after": None,
        "watermark": "2026-01-01 00:16:40+00",
        "null_rows": 2,
    }
    assert "cursor" not in next(t for t in m["tables"] if t["name"] == "dims")
    typed = load_manifest(d1)
    assert typed.is_sealed() and typed.watermarks is not None and not typed.is_delta
    link = adu_store.last_export(src.dsn)
    assert link is not None and link.position == 0 and link.watermarks["public.log"] == ("seq", "50")
    assert pg.password not in link.source


def test_delta_exports_only_rows_past_the_watermark(pg, src, adu_store, tmp_path):
    d1, d2, d3 = tmp_path / "d1", tmp_path / "d2", tmp_path / "d3"
    export(adu_store, src, pg.password, d1, TABLES, cursors=CURSORS)
    src.execute(
        "UPDATE public.orders SET amount = 0, updated_at = timestamptz '2026-02-01 00:00:00+00' WHERE id IN (3, 4);"
        "INSERT INTO public.orders VALUES (2000, 9, timestamptz '2026-02-01 00:00:01+00'), (2001, 9, NULL);"
        "INSERT INTO public.log VALUES (51, 'new');"
        "UPDATE public.dims SET label = 'AA' WHERE code = 'a'"
    )
    result = export(adu_store, src, pg.password, d2, TABLES, after=str(d1))
    assert {t.qualified_name: t.rows for t in result.tables} == {
        "public.orders": 3,
        "public.log": 1,
        "public.dims": 2,
    }
    assert ids(d2, "public", "orders") == {3: 1, 4: 1, 2000: 1}
    assert ids(d2, "public", "log", "seq") == {51: 1}
    m1, m2 = manifest(d1), manifest(d2)
    import hashlib

    assert m2["format_version"] == 2
    assert m2["previous"]["manifest_sha256"] == hashlib.sha256((d1 / "manifest.json").read_bytes()).hexdigest()
    assert m2["previous"]["watermarks"] == m1["watermarks"]
    assert m2["watermarks"]["public.orders"]["value"] == "2026-02-01 00:00:01+00"
    orders = next(t for t in m2["tables"] if t["name"] == "orders")
    assert orders["cursor"]["after"] == "2026-01-01 00:16:40+00" and orders["cursor"]["null_rows"] == 3
    # nothing changed: an empty, valid link that keeps the watermarks; from the job store
    result = export(adu_store, src, pg.password, d3, ("public.orders", "public.log"), after="last")
    assert {t.qualified_name: t.rows for t in result.tables} == {"public.orders": 0, "public.log": 0}
    m3 = manifest(d3)
    assert m3["watermarks"] == m2["watermarks"]
    assert m3["previous"]["manifest_sha256"] == hashlib.sha256((d2 / "manifest.json").read_bytes()).hexdigest()
    assert adu_store.last_export(src.dsn).position == 2


def test_delta_refuses_bad_input(pg, src, adu_store, tmp_path):
    with pytest.raises(UsageError, match="no earlier export"):
        export(adu_store, src, pg.password, tmp_path / "x", TABLES, after="last")
    d1 = tmp_path / "d1"
    export(adu_store, src, pg.password, d1, TABLES)  # no cursor
    with pytest.raises(UsageError, match="no watermark"):
        export(adu_store, src, pg.password, tmp_path / "y", TABLES, after=str(d1))
    with pytest.raises(UsageError, match="has no column"):
        export(adu_store, src, pg.password, tmp_path / "z", TABLES, cursors={"public.log": "nope"})
    with pytest.raises(UsageError, match="does not export"):
        export(adu_store, src, pg.password, tmp_path / "w", ("public.log",), cursors={"public.orders": "id"})
    with pytest.raises(UsageError, match=r"public.docs.doc \(json\) cannot be a cursor column"):
        export(adu_store, src, pg.password, tmp_path / "u", ("public.docs",), cursors={"public.docs": "doc"})
    d2 = tmp_path / "d2"
    export(adu_store, src, pg.password, d2, TABLES, cursors=CURSORS)
    (d2 / "public" / "log").joinpath("extra.txt").write_text("x")
    with pytest.raises(UsageError, match="does not verify"):
        export(adu_store, src, pg.password, tmp_path / "v", TABLES, after=str(d2))


def test_a_bad_after_is_still_reported_before_an_unreachable_source(pg, adu_store, tmp_path):
    """The source's connections start opening before ``--after`` is resolved (they overlap
    its verification), but the errors keep their order: the bad ``--after`` is reported,
    and nothing is left open or written."""
    from adu_core.engine import submit_and_run
    from adu_core.errors import ConnectError
    from adu_core.models import JobSpec, TableSelection

    spec = JobSpec(
        source="postgresql://nobody@127.0.0.1:1/none",
        target=str(tmp_path / "out"),
        selection=TableSelection(tables=TABLES),
        validate=False,
        after=str(tmp_path / "missing"),
    )
    with pytest.raises(UsageError, match="--after"):
        submit_and_run(adu_store, spec, executor="thread")
    assert not (tmp_path / "out" / "manifest.json").exists()
    # the same source with a good --after (none: a full export) fails on the source
    spec = JobSpec(source=spec.source, target=spec.target, selection=spec.selection, validate=False)
    with pytest.raises(ConnectError, match="cannot connect to PostgreSQL"):
        submit_and_run(adu_store, spec, executor="thread")
