"""Where the Vertica tests run: the fake cluster or a real Vertica (see conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest
from vertica_encode import text_value
from vertica_engine import TableDef, _store
from vertica_types import VType, parse_type
from vertica_wire import VerticaTestServer


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

    def sql(self, *statements: str) -> None:
        """Run statements through vertica-python as the fixture's user (fake or real)."""
        conn = self._real()
        try:
            cur = conn.cursor()
            for stmt in statements:
                cur.execute(stmt)
        finally:
            conn.close()

    def deny(self, table: TableDef, user: str = "adu_reader", password: str = "R3ader-Pw") -> str:
        """The URL of a user with USAGE on the schema and SELECT on every test table but ``table``.

        Made with real SQL (CREATE USER, GRANT) on the test server and a real Vertica alike.
        """
        grants = [
            f"GRANT SELECT ON TABLE {_q(t.schema)}.{_q(t.name)} TO {user}"
            for t in self.tables.values()
            if (t.schema, t.name) != (table.schema, table.name)
        ]
        self.sql(
            f"DROP USER IF EXISTS {user} CASCADE",
            f"CREATE USER {user} IDENTIFIED BY '{password}'",
            f"GRANT USAGE ON SCHEMA {_q(table.schema)} TO {user}",
            *grants,
        )
        return with_user(self.url, user, password)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def with_user(url: str, user: str, password: str) -> str:
    """``url`` with another user and password."""
    from urllib.parse import quote, urlsplit, urlunsplit

    parts = urlsplit(url)
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.hostname}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))
