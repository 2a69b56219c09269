"""A Vertica frontend/backend protocol server for tests, answering from DuckDB.

It speaks the protocol as vertica-python 1.4 expects it; the source each detail comes
from is named next to it (paths relative to ``site-packages/vertica_python``).

Implemented:

* start-up packet: int32 length, int32 fixed version 3.5, then ``protocol_version`` with
  a *binary* int32 value (``frontend_messages/startup.py`` packs it with ``!16sxIx``),
  then NUL-terminated name/value pairs (user, database, client_label, client_type,
  binary_data_protocol, protocol_features, ...) and a final NUL;
* SslRequest (80877103) answered ``N`` (or ``S`` and a TLS handshake, see below);
  LoadBalanceRequest (80936960) answered ``Y`` + LoadBalanceResponse(port, host) when the cluster balances, else ``N``
  (``vertica/connection.py`` ``enable_ssl``/``balance_load``);
* CancelRequest (80877102, pid, key) on a separate connection (``cancel_request.py``);
* authentication: clear text (3), MD5 (5: ``md5`` + md5(md5(pw+user)+salt)) and SHA512
  (65536+512: salt, int32 16, 16-byte user salt; ``sha512`` + sha512(sha512(pw+usersalt)+salt))
  (``backend_messages/authentication.py``, ``frontend_messages/password.py``); a wrong
  password gets ErrorResponse FATAL 28000;
* ParameterStatus (protocol_version as a decimal string: ``connection.py`` does
  ``int(message.value)``; server_version, timezone, request_complex_types=on, auto_commit,
  ...), BackendKeyData, ReadyForQuery;
* simple Query: RowDescription with Vertica's layout (``backend_messages/row_description.py``:
  a type pool of user-defined types, then per field name, int64 table oid, schema and
  table names when the oid is not 0, attribute number, parent attribute number (protocol
  >= 3.12 with complex types), user-defined flag, type oid, size, nullable, identity,
  type modifier, format code), child fields for ROW, DataRow (text or binary transfer as
  the client asked with ``binary_data_protocol``), CommandComplete, EmptyQueryResponse,
  ErrorResponse / NoticeResponse fields S, C, M, V, H (``mixins/notice_response_attr.py``);
* Terminate.

TLS: when the cluster has an ``ssl.SSLContext``, SslRequest is answered ``S`` and the
socket wrapped (server side) before the start-up packet.

COPY ... FROM STDIN NATIVE: see :mod:`vertica_copy`.

Not implemented: the extended protocol (prepared statements), COPY LOCAL, Kerberos/OAuth.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import socketserver
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import vertica_copy
from vertica_engine import Engine, ResultColumn, SqlError
from vertica_history import SessionState
from vertica_results import cstr as _cstr
from vertica_results import data_rows, row_description
from vertica_results import error_payload as error_payload
from vertica_results import msg as _msg

SSL_REQUEST = 80877103
CANCEL_REQUEST = 80877102
LOAD_BALANCE_REQUEST = 80936960
SERVER_PROTOCOL = 3 << 16 | 16  # vertica_python.PROTOCOL_VERSION of 1.4
AUTH_OK, AUTH_CLEARTEXT, AUTH_MD5, AUTH_SHA512 = 0, 3, 5, 65536 + 512
ROWS_PER_CHUNK = 16384


@dataclass
class Faults:
    """Knobs tests turn to make the server misbehave (one-shot unless said otherwise)."""

    #: close the connection after sending this many rows of a query on this table
    drop_after_rows: int | None = None
    drop_table: str | None = None
    #: sleep this long between chunks of DataRows (keeps a query running for cancel tests)
    chunk_delay: float = 0.0
    rows_per_chunk: int = ROWS_PER_CHUNK
    #: close the connection when a statement containing this text arrives (before running it)
    drop_on_statement: str | None = None
    #: close the connection once a COPY has received this many bytes of CopyData
    drop_copy_after_bytes: int | None = None
    #: (table, hook): run ``hook()`` just before the next ``AT EPOCH`` query naming the
    #: table, e.g. a DML commit or an AHM advance "while the job runs" (one-shot)
    before_historical: tuple[str, Callable[[], None]] | None = None


@dataclass
class Cluster:
    """State shared by every node: users, the SQL engine, sessions, faults, a log."""

    engine: Engine
    users: dict[str, str]
    auth: str = "sha512"
    load_balance: bool = False
    faults: Faults = field(default_factory=Faults)
    sessions: dict[int, tuple[int, Session]] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    startups: list[dict[str, str]] = field(default_factory=list)
    #: a server-side ssl.SSLContext: SslRequest is then answered 'S' and the socket wrapped
    tls: ssl.SSLContext | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    _rr: int = 0

    def next_node(self) -> Node:
        with self.lock:
            up = [n for n in self.nodes if n.running]
            self._rr += 1
            return up[self._rr % len(up)]


class Session(socketserver.BaseRequestHandler):
    """One client connection."""

    node: Node
    cluster: Cluster

    def setup(self) -> None:
        self.sock: socket.socket = self.request
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.sock.makefile("rb")
        self.cancel_event = threading.Event()
        self.pid = 0
        self.binary = False
        self.complex = False
        self.protocol = 0
        self.tls = False
        self.state: SessionState | None = None
        self.node.conns.add(self.sock)

    def finish(self) -> None:
        if self.state is not None:  # a session that ends uncommitted rolls back
            with self.cluster.engine.lock:
                self.cluster.engine.history.rollback(self.state)
        self.node.conns.discard(self.sock)
        with self.cluster.lock:
            self.cluster.sessions.pop(self.pid, None)
        with contextlib.suppress(OSError):
            self.rfile.close()
        if self.sock is not self.request:  # the TLS wrapper owns the descriptor now
            with contextlib.suppress(OSError):
                self.sock.close()

    # ------------------------------------------------------------------- low level
    def _read(self, n: int) -> bytes:
        data = self.rfile.read(n)
        if len(data) != n:
            raise ConnectionError("client went away")
        return data

    def _send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _error(self, sqlstate: str, message: str, code: int = 0, severity: str = "ERROR") -> None:
        self._send(_msg(b"E", error_payload(severity, sqlstate, message, code)))

    # ------------------------------------------------------------------- start-up
    def handle(self) -> None:
        try:
            if not self._startup():
                return
            self._loop()
        except (ConnectionError, OSError):
            return

    def _startup(self) -> bool:
        while True:
            length = struct.unpack("!I", self._read(4))[0]
            body = self._read(length - 4)
            code = struct.unpack("!I", body[:4])[0]
            if code == SSL_REQUEST:  # connection.py enable_ssl: one byte 'S' or 'N'
                ctx = self.cluster.tls
                if ctx is None:
                    self._send(b"N")
                    continue
                self._send(b"S")  # then the TLS handshake, then the start-up packet over TLS
                self.node.conns.discard(self.sock)
                self.sock = ctx.wrap_socket(self.sock, server_side=True)
                self.node.conns.add(self.sock)
                self.rfile = self.sock.makefile("rb")
                self.tls = True
                continue
            if code == LOAD_BALANCE_REQUEST:  # connection.py balance_load
                if self.cluster.load_balance:
                    target = self.cluster.next_node()
                    payload = struct.pack("!I", target.port) + _cstr(target.host)
                    self._send(_msg(b"Y", payload))
                else:
                    self._send(b"N")
                continue
            if code == CANCEL_REQUEST:
                pid, key = struct.unpack("!II", body[4:12])
                with self.cluster.lock:
                    entry = self.cluster.sessions.get(pid)
                if entry and entry[0] == key:
                    entry[1].cancel_event.set()
                return False
            break
        params = self._parse_startup(body[4:])
        with self.cluster.lock:
            self.cluster.startups.append(
                {**{k: v for k, v in params.items() if k != "password"}, "_tls": "yes" if self.tls else "no"}
            )
        self.protocol = min(int(params.get("protocol_version", str(3 << 16 | 5))), SERVER_PROTOCOL)
        self.binary = params.get("binary_data_protocol") == "1"
        self.complex = '"request_complex_types":true' in params.get("protocol_features", "").replace(" ", "")
        user = params.get("user", "")
        if not self._authenticate(user):
            self._error("28000", "Invalid username or password", 3781, "FATAL")
            return False
        self._send(_msg(b"R", struct.pack("!I", AUTH_OK)))
        self.pid = int.from_bytes(os.urandom(3), "big") + 1
        autocommit = params.get("autocommit", "off") == "on"
        self.state = SessionState(user=user, sid=self.pid, autocommit=autocommit)
        status = {
            "protocol_version": str(self.protocol),
            "server_version": "v24.1.0-0",
            "client_locale": "en_US@collation=binary",
            "standard_conforming_strings": "on",
            "long_string_types": "on",
            "auto_commit": "on" if autocommit else "off",
            "timezone": "UTC",
            "MARS": "off",
            "request_complex_types": "on" if self.complex else "off",
            "node_name": self.node.name,
        }
        for k, v in status.items():
            self._send(_msg(b"S", _cstr(k) + _cstr(v)))
        key = int.from_bytes(os.urandom(4), "big")
        with self.cluster.lock:
            self.cluster.sessions[self.pid] = (key, self)
        self._send(_msg(b"K", struct.pack("!II", self.pid, key)))
        self._send(_msg(b"Z", b"I"))
        return True

    @staticmethod
    def _parse_startup(data: bytes) -> dict[str, str]:
        params: dict[str, str] = {}
        pos = 0
        while pos < len(data) and data[pos] != 0:
            end = data.index(b"\x00", pos)
            key = data[pos:end].decode()
            pos = end + 1
            if key == "protocol_version":  # binary int32 + NUL (startup.py '!16sxIx')
                params[key] = str(struct.unpack("!I", data[pos : pos + 4])[0])
                pos += 5
                continue
            end = data.index(b"\x00", pos)
            params[key] = data[pos:end].decode()
            pos = end + 1
        return params

    def _authenticate(self, user: str) -> bool:
        expected = self.cluster.users.get(user)
        method = self.cluster.auth
        salt = os.urandom(4)
        usersalt = os.urandom(16)
        if method == "md5":
            self._send(_msg(b"R", struct.pack("!I", AUTH_MD5) + salt))
        elif method == "sha512":
            self._send(_msg(b"R", struct.pack("!I", AUTH_SHA512) + salt + struct.pack("!I", 16) + usersalt))
        else:
            self._send(_msg(b"R", struct.pack("!I", AUTH_CLEARTEXT)))
        kind = self._read(1)
        length = struct.unpack("!I", self._read(4))[0]
        answer = self._read(length - 4).rstrip(b"\x00")
        if kind != b"p" or expected is None:
            return False
        pw = expected.encode()
        if method == "md5":
            want = b"md5" + _hexchain(hashlib.md5, pw, [user.encode(), salt])
        elif method == "sha512":
            want = b"sha512" + _hexchain(hashlib.sha512, pw, [usersalt, salt])
        else:
            want = pw
        return answer == want

    # ------------------------------------------------------------------- queries
    def _loop(self) -> None:
        while True:
            kind = self._read(1)
            length = struct.unpack("!I", self._read(4))[0]
            body = self._read(length - 4)
            if kind == b"X":  # Terminate
                return
            if kind == b"Q":
                self._query(body.rstrip(b"\x00").decode())
                self._send(_msg(b"Z", b"I"))
            elif kind in (b"S", b"H"):  # Sync / Flush
                self._send(_msg(b"Z", b"I"))
            else:
                self._error("08P01", f"unsupported message {kind!r} (the test server speaks the simple protocol)")
                self._send(_msg(b"Z", b"I"))

    def _query(self, sql: str) -> None:
        self.cancel_event.clear()
        faults = self.cluster.faults
        with self.cluster.lock:
            self.cluster.queries.append(sql)
            drop = faults.drop_on_statement is not None and faults.drop_on_statement in sql
            if drop:
                faults.drop_on_statement = None
        if drop:
            self.sock.shutdown(socket.SHUT_RDWR)
            raise ConnectionError("fault: connection lost on a statement")
        if not sql.strip().rstrip(";").strip():
            self._send(_msg(b"I", b""))
            return
        low = sql.strip().lower()
        assert self.state is not None
        if low.startswith("set session autocommit"):
            on = low.rstrip(";").endswith("on")
            if on and not self.state.autocommit:
                with self.cluster.engine.lock:
                    self.cluster.engine.history.commit(self.state)
            self.state.autocommit = on
            self._send(_msg(b"S", _cstr("auto_commit") + _cstr("on" if on else "off")))
            self._send(_msg(b"C", _cstr("SET")))
            return
        if vertica_copy.is_copy(sql):
            vertica_copy.run(self, sql)
            return
        with self.cluster.lock:
            hook = faults.before_historical
            if hook and low.startswith("at epoch") and hook[0] in sql:
                faults.before_historical = None
            else:
                hook = None
        if hook:
            hook[1]()
        try:
            result = self.cluster.engine.execute(sql, self.state)
        except SqlError as e:
            self._error(e.sqlstate, e.message, e.code)
            return
        if isinstance(result, str):
            self._send(_msg(b"C", _cstr(result)))
            return
        cols, cur = result
        try:
            self._send(row_description(cols, binary=self.binary, complex_types=self.complex, protocol=self.protocol))
            self._stream(sql, cols, cur)
        finally:
            cur.close()

    def _stream(self, sql: str, cols: list[ResultColumn], cur: Any) -> None:
        faults = self.cluster.faults
        drop_at = None
        if faults.drop_after_rows is not None and faults.drop_table and faults.drop_table in sql:
            drop_at = faults.drop_after_rows
            faults.drop_after_rows = None
        sent = 0
        reader = cur.fetch_record_batch(faults.rows_per_chunk)
        for batch in reader:
            if self.cancel_event.is_set():
                with self.cluster.lock:
                    self.cluster.cancelled.append(sql)
                self._error("57014", "Execution canceled by operator", 4800)
                return
            if drop_at is not None and sent + batch.num_rows > drop_at:
                batch = batch.slice(0, max(drop_at - sent, 0))
                self._send(data_rows(cols, batch, binary=self.binary))
                self.sock.shutdown(socket.SHUT_RDWR)
                raise ConnectionError("fault: node lost mid-export")
            self._send(data_rows(cols, batch, binary=self.binary))
            sent += batch.num_rows
            if faults.chunk_delay:
                time.sleep(faults.chunk_delay)
        self._send(_msg(b"C", _cstr("SELECT")))


def _hexchain(algo: Any, pw: bytes, keys: list[bytes]) -> bytes:
    out = pw
    for k in keys:
        out = algo(out + k).hexdigest().encode()
    return out


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Node:
    """One listening node of the cluster (127.0.0.1, a free port)."""

    def __init__(self, cluster: Cluster, name: str, port: int = 0) -> None:
        self.cluster = cluster
        self.name = name
        self.host = "127.0.0.1"
        self.conns: set[socket.socket] = set()
        handler = type("BoundSession", (Session,), {"node": self, "cluster": cluster})
        self.server = _TCPServer((self.host, port), handler)
        self.port = self.server.server_address[1]
        self.running = False
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name=f"vertica-{self.name}"
        )
        self.thread.start()
        self.running = True

    def stop(self) -> None:
        """Take the node down: stop listening and cut every connection."""
        if not self.running:
            return
        self.running = False
        self.server.shutdown()
        self.server.server_close()
        for s in list(self.conns):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


class VerticaTestServer:
    """A fake Vertica cluster of ``nodes`` nodes sharing one DuckDB engine."""

    def __init__(
        self,
        *,
        user: str = "dbadmin",
        password: str = "s3cret",
        nodes: int = 2,
        auth: str = "sha512",
        database: str = "testdb",
    ) -> None:
        names = [f"v_{database}_node{i + 1:04d}" for i in range(nodes)]
        self.engine = Engine(names, superuser=user)
        self.engine.privileges.users[user] = password
        self.cluster = Cluster(self.engine, self.engine.privileges.users, auth=auth)
        self.user, self.password, self.database = user, password, database
        self.nodes = [Node(self.cluster, n) for n in names]
        self.cluster.nodes = self.nodes

    def start(self) -> VerticaTestServer:
        for n in self.nodes:
            n.start()
        return self

    def stop(self) -> None:
        for n in self.nodes:
            n.stop()

    @property
    def port(self) -> int:
        return self.nodes[0].port

    def url(self, node: int = 0, **query: str) -> str:
        from urllib.parse import quote, urlencode

        q = {"tlsmode": "disable", **query}
        return (
            f"vertica://{self.user}:{quote(self.password, safe='')}@127.0.0.1:{self.nodes[node].port}/"
            f"{self.database}?{urlencode(q)}"
        )

    def advance_ahm(self) -> None:
        """Commit an (empty) epoch and move the Ancient History Mark to it (``MAKE_AHM_NOW()``)."""
        with self.engine.lock:
            self.engine.history.advance()
            self.engine.history.set_ahm(None)

    def __enter__(self) -> VerticaTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
