"""The test server against the real vertica-python driver (no ADU code involved).

These prove the server speaks the protocol the driver expects; against a real Vertica
(``ADU_TEST_VERTICA_URL``) they check the same driver behaviour there.
"""

from __future__ import annotations

import datetime as dt
import decimal
import threading

import pytest
import vertica_python
from adu_vertica.connect import close_failed_connection
from vertica_python import errors as verrors
from vertica_tables import SCHEMA, TYPES_ROWS
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


@pytest.mark.parametrize("binary", [False, True])
def test_every_type_decodes_in_the_driver(fresh_server: VerticaTestServer, binary: bool) -> None:
    from vertica_tables import types_table

    fresh_server.engine.create_table(types_table())
    conn = _connect(fresh_server, binary_transfer=binary)
    try:
        cur = conn.cursor()
        cols = "id, f, n, n_38, vc, vb, ok, d, ts, tstz, u, arr, rw"
        cur.execute(f'SELECT {cols} FROM "{SCHEMA}"."all_types" ORDER BY id')
        rows = cur.fetchall()
        desc = {c.name: c for c in cur.description}
    finally:
        conn.close()
    assert desc["n"].type_code == 16 and desc["n"].precision == 12 and desc["n"].scale == 2
    assert desc["vc"].type_code == 9 and desc["vc"].display_size == 40
    assert desc["id"].null_ok is False and desc["f"].null_ok is True
    assert all(c.format_code == (1 if binary else 0) for c in desc.values())
    first = TYPES_ROWS[0]
    assert rows[0][0] == 1 and rows[0][1] == 1.5
    assert rows[0][2] == first[2] and rows[0][3] == first[3]
    assert rows[0][4] == "héllo wörld" and rows[0][5] == b"\x00\xff\\"
    assert rows[0][7] == dt.date(1, 1, 1)
    assert rows[0][9] == dt.datetime(2000, 1, 1, 0, 0, 0, 1, tzinfo=dt.UTC)
    assert rows[0][10] == first[20]
    assert rows[0][11] == [1, None, 3]
    assert rows[0][12] == {"x": 1, "y": "why", "z": decimal.Decimal("-1.250")}
    assert rows[1][1] != rows[1][1]  # NaN
    assert rows[2][1] == float("inf") and rows[3][1] == float("-inf")
    assert rows[2][2:] == [None] * 11


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
