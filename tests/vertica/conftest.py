"""Fixtures for the Vertica tests: the wire-protocol test server, or a real Vertica.

By default a fake two-node Vertica cluster (``vertica_wire.VerticaTestServer``) starts on
127.0.0.1 and free ports. When ``ADU_TEST_VERTICA_URL`` is set (a ``vertica://`` URL of a
user allowed to create schemas, tables and users), the same tests run against that
server: the fixture creates the test tables there with real DDL (schema ``adu_test``,
dropped first) and the tests that need fault injection (dropping a node mid-export,
slowing a query down) are skipped.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from vertica_encode import text_value
from vertica_engine import TableDef, _store
from vertica_tables import SCHEMA, all_tables
from vertica_types import VType, parse_type
from vertica_wire import VerticaTestServer

REAL_URL = os.environ.get("ADU_TEST_VERTICA_URL")


def _sql_literal(v: Any, vt: VType) -> str:
    """A Vertica SQL literal for a test value (test constants only, never user text)."""
    if v is None:
        return f"NULL::{vt.sql()}"
    if vt.kind == "row":
        parts = [_sql_literal(v.get(n), t) for n, t in vt.fields]
        return f"ROW({', '.join(parts)})::{vt.sql()}"
    if vt.kind in ("array", "set"):
        assert vt.element is not None
        inner = ", ".join(_sql_literal(x, vt.element) for x in v)
        return f"{'ARRAY' if vt.kind == 'array' else 'SET'}[{inner}]::{vt.sql()}"
    if vt.kind in ("geometry", "geography"):
        return f"ST_GeomFromText('{v}')"
    if vt.kind in ("binary", "varbinary", "long varbinary"):
        return f"HEX_TO_BINARY('{bytes(v).hex()}')::{vt.sql()}"
    text = text_value(_store(v, vt), vt)
    return "'" + text.replace("'", "''") + f"'::{vt.sql()}"


class VerticaEnv:
    """Where the tests run: the fake cluster or a real Vertica."""

    def __init__(self, url: str, fake: VerticaTestServer | None) -> None:
        self.url = url
        self.fake = fake
        self.tables: dict[str, TableDef] = {}

    @property
    def is_fake(self) -> bool:
        return self.fake is not None

    def require_fake(self, why: str) -> VerticaTestServer:
        if self.fake is None:
            pytest.skip(f"needs the test server ({why})")
        return self.fake

    def _real(self) -> Any:
        from adu_vertica.connect import connect

        return connect(self.url)

    def create(self, table: TableDef) -> None:
        self.tables[table.name] = table
        if self.fake is not None:
            self.fake.engine.create_table(table)
            return
        conn = self._real()
        try:
            cur = conn.cursor()
            cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{table.schema}"')
            cur.execute(f'DROP TABLE IF EXISTS "{table.schema}"."{table.name}" CASCADE')
            cur.execute(table.ddl())
        finally:
            conn.close()
        self.insert(table, table.rows)

    def insert(self, table: TableDef, rows: list[tuple[Any, ...]]) -> None:
        if self.fake is not None:
            self.fake.engine.insert(table.schema, table.name, rows)
            return
        vts = [parse_type(c.type) for c in table.columns]
        conn = self._real()
        try:
            cur = conn.cursor()
            for start in range(0, len(rows), 500):
                chunk = rows[start : start + 500]
                selects = " UNION ALL ".join(
                    "SELECT " + ", ".join(_sql_literal(v, vt) for v, vt in zip(r, vts, strict=True)) for r in chunk
                )
                cur.execute(f'INSERT INTO "{table.schema}"."{table.name}" {selects}')
            cur.execute("COMMIT")
        finally:
            conn.close()

    def deny(self, table: TableDef) -> str:
        """A URL of a user without SELECT on ``table`` (fake: the same user, denied)."""
        if self.fake is not None:
            self.fake.engine.denied.add((table.schema, table.name))
            return self.url
        pytest.skip("privilege test needs a second user: run it against the test server")
        raise AssertionError


@pytest.fixture(scope="session")
def vertica() -> Iterator[VerticaEnv]:
    if REAL_URL:
        env = VerticaEnv(REAL_URL, None)
        conn = env._real()
        try:
            conn.cursor().execute(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
        finally:
            conn.close()
        for t in all_tables():
            env.create(t)
        yield env
        return
    server = VerticaTestServer(nodes=2).start()
    env = VerticaEnv(server.url(), server)
    for t in all_tables():
        env.create(t)
    try:
        yield env
    finally:
        server.stop()


@pytest.fixture
def fresh_server() -> Iterator[VerticaTestServer]:
    """A private fake cluster for tests that break things (auth modes, stopped nodes)."""
    server = VerticaTestServer(nodes=2).start()
    try:
        yield server
    finally:
        server.stop()
