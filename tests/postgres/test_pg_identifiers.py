"""Schema, table and column names of every shape are quoted as identifiers."""

from __future__ import annotations

import pytest
from pg_helpers import find, open_source, read_table
from pgserver import quote_ident

NAMES = [
    "with space",
    'dq"uote',
    "sq'uote",
    "select",  # reserved word
    "MixedCase",
    "UPPER",
    "ünïcødé_名前",
    "a" * 63,  # the longest identifier
    "semi;colon -- comment",
    "back\\slash",
    "1starts_with_digit",
    "$dollar",
]


@pytest.mark.parametrize("name", NAMES)
def test_identifier_shapes(pg_db, name) -> None:
    q = quote_ident(name)
    pg_db.execute(
        f'CREATE SCHEMA {q}; CREATE TABLE {q}.{q} ({q} int PRIMARY KEY, "other col" text);'
        f"INSERT INTO {q}.{q} VALUES (1, 'x'), (2, NULL)"
    )
    source = open_source(pg_db.dsn, partition_mb=0.01)
    table = find(source.discover(), f"{name}.{name}")
    assert table.columns[0].name == name
    assert table.primary_key == (name,)
    data = read_table(source, table, target=3).sort_by(name)
    assert data.column(name).to_pylist() == [1, 2]
    assert name in table.ddl or quote_ident(name) in table.ddl


def test_identifiers_only_differing_by_case(pg_db) -> None:
    pg_db.execute(
        'CREATE TABLE "T" ("A" int, a int); CREATE TABLE t ("A" text);'
        "INSERT INTO \"T\" VALUES (1, 2); INSERT INTO t VALUES ('lower')"
    )
    source = open_source(pg_db.dsn)
    tables = source.discover()
    upper = read_table(source, find(tables, "public.T"))
    lower = read_table(source, find(tables, "public.t"))
    # the portable profile (the default) suffixes the second name (Spark reads names
    # case-insensitively) and keeps the original; the exact profile keeps both names
    assert upper.to_pylist() == [{"A": 1, "a__2": 2}]
    assert find(tables, "public.T").column("a__2").properties["original_name"] == "a"
    assert lower.to_pylist() == [{"A": "lower"}]
    exact = open_source(pg_db.dsn, profile="exact")
    assert read_table(exact, find(exact.discover(), "public.T")).to_pylist() == [{"A": 1, "a": 2}]
