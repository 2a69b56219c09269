"""ctid page ranges cover a table exactly once; partitioned tables are read through their
leaves, once, and published as one table."""

from __future__ import annotations

import itertools

from adu_core.plugin.components import NeverCancelled
from pg_helpers import find, open_source, read_table


def test_page_ranges_cover_every_row_once(pg_db) -> None:
    pg_db.execute(
        "CREATE TABLE big (id int, pad text);"
        "INSERT INTO big SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g;"
        "DELETE FROM big WHERE id % 7 = 0"  # holes in pages
    )
    pg_db.execute("VACUUM ANALYZE big")
    source = open_source(pg_db.dsn, partition_mb=0.1)  # ~12 pages per partition
    table = find(source.discover(), "public.big")
    parts = source.partitions(table, target=5)
    assert len(parts) == 5
    assert parts[0].spec.get("lo") is None and parts[-1].spec.get("hi") is None
    for a, b in itertools.pairwise(parts):
        assert a.spec["hi"] == b.spec["lo"]
    assert all(p.estimated_rows for p in parts)
    data = read_table(source, table, target=5)
    ids = data.column("id").to_pylist()
    assert len(ids) == len(set(ids)) == 20000 - 20000 // 7
    assert set(ids) == {i for i in range(1, 20001) if i % 7}


def test_small_tables_are_one_partition(pg_db) -> None:
    pg_db.execute("CREATE TABLE small AS SELECT g AS id FROM generate_series(1, 1000) g")
    source = open_source(pg_db.dsn)
    table = find(source.discover(), "public.small")
    assert len(source.partitions(table, target=8)) == 1


def test_partitioned_table_read_through_leaves_once(pg_db) -> None:
    pg_db.execute(
        "CREATE TABLE events (id int, region text, at date) PARTITION BY LIST (region);"
        "CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('eu');"
        "CREATE TABLE events_us PARTITION OF events FOR VALUES IN ('us') PARTITION BY RANGE (at);"
        "CREATE TABLE events_us_old PARTITION OF events_us FOR VALUES FROM ('2000-01-01') TO ('2020-01-01');"
        "CREATE TABLE events_us_new PARTITION OF events_us FOR VALUES FROM ('2020-01-01') TO ('2100-01-01');"
        "CREATE TABLE events_empty PARTITION OF events FOR VALUES IN ('none');"
        "INSERT INTO events SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END,"
        " date '2010-01-01' + (g % 5000) FROM generate_series(1, 30000) g;"
        "ANALYZE events"
    )
    source = open_source(pg_db.dsn, partition_mb=0.05)
    tables = source.discover()
    assert [t.qualified_name for t in tables] == ["public.events"]  # leaves are not tables of their own
    table = tables[0]
    assert table.kind == "partitioned"
    assert table.row_estimate == 30000
    parts = source.partitions(table, target=6)
    relations = {tuple(p.spec["relation"]) for p in parts}
    assert relations == {
        ("public", "events_eu"),
        ("public", "events_us_old"),
        ("public", "events_us_new"),
        ("public", "events_empty"),
    }
    assert len(parts) > len(relations)  # big leaves are split in page ranges too
    data = read_table(source, table, target=6)
    ids = data.column("id").to_pylist()
    assert len(ids) == len(set(ids)) == 30000


def test_inheritance_children_are_not_read_twice(pg_db) -> None:
    pg_db.execute(
        "CREATE TABLE parent (id int); CREATE TABLE child () INHERITS (parent);"
        "INSERT INTO parent VALUES (1); INSERT INTO child VALUES (2)"
    )
    source = open_source(pg_db.dsn)
    tables = source.discover()
    parent = read_table(source, find(tables, "public.parent"))
    child = read_table(source, find(tables, "public.child"))
    assert parent.column("id").to_pylist() == [1]  # ONLY parent
    assert child.column("id").to_pylist() == [2]


def test_batches_respect_batch_rows(pg_db) -> None:
    pg_db.execute("CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 2500) g")
    source = open_source(pg_db.dsn)
    table = find(source.discover(), "public.t")
    (part,) = source.partitions(table, target=1)
    sizes = [b.num_rows for b in source.read(part, snapshot={}, batch_rows=1000, cancel=NeverCancelled())]
    assert sizes == [1000, 1000, 500]


def test_foreign_leaf_of_a_partitioned_table_is_read(pg_db) -> None:
    pg_db.execute("CREATE EXTENSION file_fdw", superuser=True)
    pg_db.execute(
        "CREATE TABLE p (id int, k text) PARTITION BY LIST (k);"
        "CREATE TABLE p_local PARTITION OF p FOR VALUES IN ('local');"
        "INSERT INTO p VALUES (1, 'local');"
    )
    pg_db.execute(
        "CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;"
        "CREATE FOREIGN TABLE p_remote PARTITION OF p FOR VALUES IN ('remote')"
        " SERVER files OPTIONS (program 'printf \"2,remote\\n\"', format 'csv');"
        f"GRANT SELECT ON p_remote TO {pg_db.server.role}",
        superuser=True,
    )
    source = open_source(pg_db.dsn)
    table = find(source.discover(), "public.p")
    assert {p.spec["relation"][1] for p in source.partitions(table, target=2)} == {"p_local", "p_remote"}
    assert sorted(read_table(source, table).to_pylist(), key=lambda r: r["id"]) == [
        {"id": 1, "k": "local"},
        {"id": 2, "k": "remote"},
    ]


def test_select_on_the_parent_only_reads_through_the_parent(pg_db) -> None:
    pg_db.execute(
        "CREATE TABLE q (id int) PARTITION BY RANGE (id);"
        "CREATE TABLE q1 PARTITION OF q FOR VALUES FROM (0) TO (10);"
        "CREATE TABLE q2 PARTITION OF q FOR VALUES FROM (10) TO (20);"
        "INSERT INTO q SELECT generate_series(0, 19);"
        f"GRANT SELECT ON q TO {pg_db.server.role}",
        superuser=True,
    )
    source = open_source(pg_db.dsn)
    table = find(source.discover(), "public.q")
    parts = source.partitions(table, target=4)
    assert [p.spec["relation"] for p in parts] == [["public", "q"]]
    assert sorted(read_table(source, table).column("id").to_pylist()) == list(range(20))


def _as_delta(table, column: str, after: str):
    """``table`` as a delta reads it: only the rows whose ``column`` is past ``after``."""
    import attrs
    from adu_core.plugin.components import CURSOR_PROPERTY

    cursor = {"column": column, "source_type": table.column(column).source_type, "after": after}
    return attrs.evolve(table, properties={**table.properties, CURSOR_PROPERTY: cursor})


def _changes_table(pg_db) -> None:
    pg_db.execute(
        "CREATE TABLE changes (id int PRIMARY KEY, ts timestamptz, tag text, pad text);"
        "INSERT INTO changes SELECT g, timestamptz '2026-01-01' + g * interval '1 second', 't' || g,"
        " repeat('x', 200) FROM generate_series(1, 20000) g;"
        "CREATE INDEX ON changes (ts); CREATE INDEX ON changes (tag);"
        "UPDATE changes SET ts = NULL WHERE id % 1000 = 0"  # NULL cursors: never in a delta
    )
    pg_db.execute("VACUUM ANALYZE changes")


def test_a_small_delta_is_one_partition_of_its_rows(pg_db) -> None:
    _changes_table(pg_db)
    source = open_source(pg_db.dsn, partition_mb=0.1)  # the whole table: many ctid ranges
    table = find(source.discover(), "public.changes")
    assert len(source.partitions(table, target=4)) == 4
    delta = _as_delta(table, "ts", "2026-01-01 05:30:00+00")  # ids past 19800: 199 rows, 1 NULL
    parts = source.partitions(delta, target=4)
    assert len(parts) == 1
    ids = read_table(source, delta, target=4).column("id").to_pylist()
    assert sorted(ids) == [i for i in range(19801, 20001) if i % 1000]


def test_planning_uses_the_size_discovery_read_and_reads_rows_added_since(pg_db) -> None:
    pg_db.execute("CREATE TABLE grows (id int, pad text)")
    source = open_source(pg_db.dsn, partition_mb=0.1)
    table = find(source.discover(), "public.grows")  # empty when discovered: 0 pages
    assert table.properties["pages"] == 0
    pg_db.execute("INSERT INTO grows SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g")
    # planned from the discovered size (no query per table): one open range, which still
    # reads every row written since
    parts = source.partitions(table, target=5)
    assert len(parts) == 1
    ids = read_table(source, table, target=5).column("id").to_pylist()
    assert sorted(ids) == list(range(1, 20001))
    # the size discovered now splits it
    assert len(source.partitions(find(source.discover(), "public.grows"), target=5)) == 5


def test_a_delta_of_many_rows_is_split_in_ranges_of_its_cursor(pg_db, monkeypatch) -> None:
    from adu_postgres import source as pg_source

    _changes_table(pg_db)
    monkeypatch.setattr(pg_source, "DELTA_SPLIT_ROWS", 1000)
    source = open_source(pg_db.dsn)  # 64 MB partitions: the delta fits one ctid range
    table = find(source.discover(), "public.changes")
    delta = _as_delta(table, "ts", "2026-01-01 02:46:40+00")  # ids past 10000: 9990 rows, 10 NULLs
    parts = source.partitions(delta, target=3)
    assert len(parts) == 3
    assert parts[0].spec["cursor_from"] is None and parts[-1].spec["cursor_below"] is None
    for a, b in itertools.pairwise(parts):
        assert a.spec["cursor_below"] == b.spec["cursor_from"] is not None
    ids = read_table(source, delta, target=3).column("id").to_pylist()
    assert len(ids) == len(set(ids))
    assert sorted(ids) == [i for i in range(10001, 20001) if i % 1000]
    # one range of rows per partition, not all of them in one
    assert all(0 < (p.estimated_rows or 0) < 9990 for p in parts)
    # a cursor without arithmetic (text): one partition, read whole
    text_delta = _as_delta(table, "tag", "t5")
    assert len(source.partitions(text_delta, target=3)) == 1
    # fewer rows than the split asks for: one partition
    monkeypatch.setattr(pg_source, "DELTA_SPLIT_ROWS", 100_000)
    assert len(source.partitions(delta, target=3)) == 1
