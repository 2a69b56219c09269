"""The test server fixture itself: TCP with a real password, the Unix socket, restart."""

from __future__ import annotations

import psycopg2
import pytest


def test_tcp_needs_the_password(pg) -> None:
    assert pg.execute("SELECT current_user", superuser=False) == [(pg.role,)]
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(pg.url(password="wrong-" + pg.password)).close()


def test_unix_socket(pg) -> None:
    conn = psycopg2.connect(pg.socket_url())
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT inet_server_addr() IS NULL")  # NULL over a Unix socket
            assert cur.fetchone() == (True,)
    finally:
        conn.close()


def test_fresh_database_per_test(pg_db) -> None:
    pg_db.execute("CREATE TABLE t (a int)")
    assert pg_db.execute("SELECT current_database()") == [(pg_db.name,)]
    assert pg_db.execute("SELECT count(*) FROM t") == [(0,)]
