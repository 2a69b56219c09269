"""Helpers of the security tests: an app with users of every role, a CSRF-aware client,
and a fake PostgreSQL server on loopback that asks for a cleartext password and records
what it is sent (what an attacker's server would receive)."""

from __future__ import annotations

import re
import socket
import struct
import threading
from pathlib import Path
from typing import Any

import attrs
from adu_core import config
from adu_core.logs import setup_service_logging
from adu_core.store import Store
from flask import Flask
from flask.testing import FlaskClient

ROLES = ("viewer", "operator", "admin")
PASSWORDS = {role: f"pw-{role}-123456" for role in ROLES}
TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def make_settings(root: Path, **extra: str) -> config.Settings:
    env = {
        "ADU_DATA_DIR": str(root / "data"),
        "ADU_ENV": "test",
        "ADU_EXPORT_ROOT": str(root / "exports"),
        "ADU_CONNECTIONS_FILE": str(root / "connections.yaml"),
        "ADU_PARALLEL": "2",
        "ADU_SECRET_KEY": "security-tests-secret-key-0123456789",
    }
    env.update(extra)
    return config.load(env)


class Client:
    """A Flask test client that knows its CSRF token."""

    def __init__(self, app: Flask, role: str | None = None, password: str | None = None) -> None:
        self.http: FlaskClient = app.test_client()
        if role:
            r = self.login(role, password or PASSWORDS[role])
            assert r.status_code == 302, r.data

    def token(self) -> str:
        page = self.http.get("/login").data.decode()
        m = TOKEN.search(page)
        if m is None:
            m = TOKEN.search(self.http.get("/logout").data.decode())
        assert m is not None
        return m.group(1)

    def login(self, username: str, password: str, **kw: Any) -> Any:
        return self.http.post(
            "/login", data={"username": username, "password": password, "csrf_token": self.token()}, **kw
        )

    def api(self, method: str, url: str, body: Any = None, **kw: Any) -> Any:
        headers = kw.pop("headers", {})
        if method != "GET":
            headers.setdefault("X-CSRFToken", self.token())
        return self.http.open(url, method=method, json=body, headers=headers, **kw)


class FakePostgres:
    """A server on 127.0.0.1 that speaks just enough of PostgreSQL's protocol to ask every
    client for a cleartext password; ``passwords`` holds what clients sent, ``connections``
    how many connected."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.passwords: list[str] = []
        self.connections = 0
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    @staticmethod
    def _read(conn: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise ConnectionError
            data += chunk
        return data

    def _client(self, conn: socket.socket) -> None:
        self.connections += 1
        conn.settimeout(10)
        try:
            while True:
                (length,) = struct.unpack("!i", self._read(conn, 4))
                body = self._read(conn, length - 4)
                code = struct.unpack("!i", body[:4])[0]
                if code in (80877103, 80877104):  # SSLRequest, GSSENCRequest: no
                    conn.sendall(b"N")
                    continue
                break  # the startup packet
            conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
            kind = self._read(conn, 1)
            (length,) = struct.unpack("!i", self._read(conn, 4))
            body = self._read(conn, length - 4)
            if kind == b"p":
                self.passwords.append(body.rstrip(b"\x00").decode("utf-8", "replace"))
            msg = b"SFATAL\x00C28P01\x00Mpassword authentication failed\x00\x00"
            conn.sendall(b"E" + struct.pack("!i", len(msg) + 4) + msg)
        except (OSError, ConnectionError, struct.error):
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self._stop = True
        self.sock.close()


#: the server's own PostgreSQL password, where libpq would look for it
SERVER_PGPASSWORD = "server-env-pgpassword-4711"
SERVER_PGPASS = "server-pgpass-file-secret-0815"


@attrs.define
class SecWorld:
    root: Path
    settings: config.Settings
    store: Store
    files: Path  # ADU_WEB_FILE_ROOT
    pgpass: Path


def build_world(root: Path, **env: str) -> SecWorld:
    setup_service_logging(None, "INFO")
    (root / "exports").mkdir(parents=True, exist_ok=True)
    (root / "files").mkdir(exist_ok=True)
    env.setdefault("ADU_WEB_FILE_ROOT", str(root / "files"))
    settings = make_settings(root, **env)
    store = Store.from_settings(settings)
    for role in ROLES:
        store.accounts.add(role, PASSWORDS[role], role)
    return SecWorld(root=root, settings=settings, store=store, files=root / "files", pgpass=root / "none")
