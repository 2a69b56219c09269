"""The test server against the real vertica-python driver (no ADU code involved).

These prove the test server speaks the protocol the driver expects. They always run
against the test server (each starts its own), never against a real Vertica, even when
``ADU_TEST_VERTICA_URL`` is set: they check the server, not Vertica.
"""

from __future__ import annotations

import threading

import pytest
import vertica_python
from adu_vertica.connect import close_failed_connection
from vertica_python import errors as verrors
from vertica_tables import SCHEMA
from vertica_wire import VerticaTestServer


def _connect(server: VerticaTestServer, **kw: object) -> vertica_python.Connection:
    opts = {
        "host": "127.0.0.1",
        "port": server.port,
        "user": server.user,
        "password": server.password,
        "database": server.database,
        "tlsmode": "disable",
    }
    opts.update(kw)
    return vertica_python.connect(**opts)


@pytest.mark.parametrize("auth", ["sha512", "md5", "cleartext"])
def test_authentication_methods_and_startup(auth: str) -> None:
    with VerticaTestServer(nodes=1, auth=auth) as server:
        conn = _connect(server)
        try:
            assert conn.parameters["protocol_version"] == 3 << 16 | 16
            assert conn.parameters["server_version"].startswith("v24")
            assert conn.backend_pid and conn.backend_key is not None
            assert conn.complex_types_enabled
            cur = conn.cursor()
            cur.execute("SELECT 1 + 1")
            assert cur.fetchall() == [[2]]
        finally:
            conn.close()
        start = server.cluster.startups[-1]
        assert start["client_type"] == "vertica-python"
        assert start["user"] == server.user
        assert "password" not in start


@pytest.mark.parametrize("auth", ["sha512", "md5"])
def test_wrong_password_is_28000(auth: str) -> None:
    with VerticaTestServer(nodes=1, auth=auth) as server:
        with pytest.raises(verrors.ConnectionError, match="28000") as info:
            _connect(server, password="not-it")
        close_failed_connection(info.value)  # the driver leaves that socket open


def test_errors_carry_sqlstate(fresh_server: VerticaTestServer) -> None:
    conn = _connect(fresh_server)
    try:
        cur = conn.cursor()
        with pytest.raises(verrors.MissingRelation) as info:
            cur.execute("SELECT * FROM nowhere.nothing")
        assert info.value.sqlstate == "42V01"
        with pytest.raises(verrors.VerticaSyntaxError):
            cur.execute("SELEC oops")
        cur.execute("-- only a comment")  # EmptyQueryResponse
        cur.execute("SELECT 'still usable'")
        assert cur.fetchone() == ["still usable"]
    finally:
        conn.close()


def test_cancel_request_stops_the_query(fresh_server: VerticaTestServer) -> None:
    from vertica_tables import big_table

    fresh_server.engine.create_table(big_table())
    fresh_server.cluster.faults.chunk_delay = 0.05
    fresh_server.cluster.faults.rows_per_chunk = 100
    conn = _connect(fresh_server)
    try:
        cur = conn.cursor()
        cur.execute(f'SELECT * FROM "{SCHEMA}"."events"')
        assert cur.fetchone() is not None
        threading.Thread(target=conn.cancel).start()  # CancelRequest on a second connection
        with pytest.raises(verrors.QueryCanceled):
            while cur.fetchone() is not None:
                pass
    finally:
        conn.close()
    assert fresh_server.cluster.cancelled, "the server never saw the cancel"


def test_load_balancing_redirects_to_another_node(fresh_server: VerticaTestServer) -> None:
    fresh_server.cluster.load_balance = True
    seen = set()
    for _ in range(4):
        conn = _connect(fresh_server, connection_load_balance=True)
        try:
            seen.add(conn.parameters["node_name"])
        finally:
            conn.close()
    assert len(seen) == 2


def test_failover_to_backup_node(fresh_server: VerticaTestServer) -> None:
    backup = fresh_server.nodes[1]
    fresh_server.nodes[0].stop()
    conn = _connect(fresh_server, backup_server_node=[(backup.host, backup.port)], connection_timeout=5)
    try:
        assert conn.parameters["node_name"] == backup.name
    finally:
        conn.close()
