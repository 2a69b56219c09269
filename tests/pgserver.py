"""pytest plugin: a real, throwaway PostgreSQL server for the tests.

Load it from ``tests/conftest.py`` with ``pytest_plugins = ["pgserver"]``.

Fixtures:

* ``pg`` (session): a :class:`PgServer`. By default a fresh cluster made with the
  machine's ``initdb``/``pg_ctl`` (``/usr/lib/postgresql/<newest>/bin``, or
  ``ADU_TEST_PG_BIN``) in a temporary directory, listening on 127.0.0.1 on a free port
  (password authentication, so wrong-password tests are real) and on a Unix socket in
  its own directory (trust). When ``ADU_TEST_PG_URL`` is set, that server is used
  instead (it must be a superuser URL; ``restart()`` is then unavailable).
* ``pg_db`` (function): a fresh database owned by the test role, dropped afterwards.

When the tests run as root (CI containers), ``initdb`` refuses to run, so the server
runs as the unprivileged user ``nobody`` (or ``ADU_TEST_PG_OS_USER``; created with
``useradd`` when missing).
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg2
import pytest
from psycopg2 import sql

ENV_URL = "ADU_TEST_PG_URL"
ENV_BIN = "ADU_TEST_PG_BIN"
ENV_OS_USER = "ADU_TEST_PG_OS_USER"
TEST_ROLE = "adu"
TEST_DB = "adu"


def _pg_bin() -> Path:
    env = os.environ.get(ENV_BIN)
    if env:
        return Path(env)
    root = Path("/usr/lib/postgresql")
    versions = sorted(
        (p for p in root.glob("*") if (p / "bin" / "initdb").exists()),
        key=lambda p: int(p.name) if p.name.isdigit() else 0,
    )
    if not versions:
        pytest.skip(f"no PostgreSQL server binaries under {root} (set {ENV_URL} or {ENV_BIN})")
    return versions[-1] / "bin"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _os_user() -> pwd.struct_passwd | None:
    """The unprivileged user the server runs as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    name = os.environ.get(ENV_OS_USER, "nobody")
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(name)


def _with_userinfo(url: str, user: str, password: str | None, dbname: str | None = None) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    auth = quote(user, safe="")
    if password is not None:
        auth += ":" + quote(password, safe="")
    path = "/" + quote(dbname, safe="") if dbname is not None else parts.path
    return urlunsplit((parts.scheme, f"{auth}@{host}", path, parts.query, parts.fragment))


class PgServer:
    """A PostgreSQL server for tests.

    :ivar dsn: ``postgresql://adu:<password>@127.0.0.1:<port>/adu`` — a non-superuser
        role (CREATEDB, CREATEROLE) owning database ``adu``, over TCP with a password.
    :ivar superuser_dsn: the same server as the superuser ``postgres`` (TCP, password).
    :ivar socket_dir: directory of the Unix socket (None for an external server).
    :ivar port: the TCP port.
    :ivar password: the password of both roles.
    :ivar ssl_root_cert: the server's self-signed certificate (SSL is on when openssl is
        installed; None otherwise and for an external server).

    :param settings: server settings of a throwaway cluster that override the tests' own
        (the benchmarks' ``shared_buffers``, for one); the tests pass none. Ignored for an
        external server.
    """

    def __init__(self, settings: Mapping[str, str] | None = None) -> None:
        self.settings = dict(settings or {})
        self.external = False
        self.base: Path | None = None
        self.datadir: Path | None = None
        self.socket_dir: str | None = None
        self.port = 0
        self.host = "127.0.0.1"
        self.password = secrets.token_urlsafe(18)
        self.superuser = "postgres"
        self.role = TEST_ROLE
        self.dbname = TEST_DB
        self.superuser_dsn = ""
        self.dsn = ""
        self.bin: Path | None = None
        self._user: pwd.struct_passwd | None = None
        self._db_counter = itertools.count(1)
        self._running = False
        self.ssl_root_cert: str | None = None

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> PgServer:
        ext = os.environ.get(ENV_URL)
        if ext:
            self._use_external(ext)
        else:
            self._start_cluster()
        self._bootstrap()
        return self

    def _use_external(self, url: str) -> None:
        self.external = True
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 5432
        self.superuser = parts.username or "postgres"
        if parts.password:
            self.password = parts.password
        self.superuser_dsn = url
        # a role of our own, with its own password, so role-dependent tests behave the same
        self.role = f"adu_test_{os.getpid()}"
        self.dbname = self.role
        self.dsn = _with_userinfo(url, self.role, self.password, self.dbname)

    def _run(self, args: Sequence[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        user = self._user
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        return subprocess.run(
            list(args),
            check=True,
            capture_output=True,
            text=True,
            env=env,
            cwd=str(self.base),
            user=user.pw_uid if user else None,
            group=user.pw_gid if user else None,
            extra_groups=[] if user else None,
            **kw,
        )

    def _start_cluster(self) -> None:
        self.bin = _pg_bin()
        self._user = _os_user()
        parent = "/tmp" if self._user is not None and os.path.isdir("/tmp") else None
        self.base = Path(tempfile.mkdtemp(prefix="adu-pg-", dir=parent))
        self.datadir = self.base / "data"
        sockdir = self.base / "sock"
        sockdir.mkdir()
        pwfile = self.base / "pwfile"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        if self._user is not None:
            for p in (self.base, sockdir, pwfile):
                os.chown(p, self._user.pw_uid, self._user.pw_gid)
        self.base.chmod(0o700)
        self.socket_dir = str(sockdir)
        self._run(
            [
                str(self.bin / "initdb"),
                "-D", str(self.datadir),
                "-U", self.superuser,
                f"--pwfile={pwfile}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E", "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )  # fmt: skip
        pwfile.unlink()
        ssl_conf = self._make_certificate()
        for attempt in range(5):
            self.port = _free_port()
            conf = [
                f"port = {self.port}",
                "listen_addresses = '127.0.0.1'",
                f"unix_socket_directories = '{self.socket_dir}'",
                "fsync = off",
                "synchronous_commit = off",
                "full_page_writes = off",
                "max_connections = 60",
                "shared_buffers = 64MB",
                "max_wal_size = 1GB",
                "log_min_messages = warning",
                "logging_collector = off",
                "timezone = 'UTC'",
                *ssl_conf,
                *(f"{k} = '{v}'" for k, v in self.settings.items()),
            ]
            with open(self.datadir / "postgresql.auto.conf", "w") as f:
                f.write("\n".join(conf) + "\n")
            try:
                self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.base / "server.log"))
            except subprocess.CalledProcessError:
                if attempt == 4:
                    raise RuntimeError("PostgreSQL did not start:\n" + self.log_tail()) from None
                continue
            break
        self._running = True
        atexit.register(self.stop)
        host = "127.0.0.1"
        self.superuser_dsn = (
            f"postgresql://{self.superuser}:{quote(self.password, safe='')}@{host}:{self.port}/postgres"
        )
        pw = quote(self.password, safe="")
        self.dsn = f"postgresql://{self.role}:{pw}@{host}:{self.port}/{self.dbname}"

    def _make_certificate(self) -> list[str]:
        """A self-signed certificate for 127.0.0.1 so SSL can be tested (none without openssl).

        The server then accepts both SSL and plain connections; :attr:`ssl_root_cert` is the
        file a client verifies the server with (``sslmode=verify-full``).
        """
        if shutil.which("openssl") is None or self.datadir is None:
            return []
        cert, key = self.datadir / "server.crt", self.datadir / "server.key"
        try:
            self._run(
                [
                    "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert),
                ]
            )  # fmt: skip
        except subprocess.CalledProcessError:
            return []
        key.chmod(0o600)
        self.ssl_root_cert = str(self.base / "root.crt")  # type: ignore[operator]
        shutil.copyfile(cert, self.ssl_root_cert)
        os.chmod(self.ssl_root_cert, 0o644)
        return ["ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'"]

    def _pg_ctl(self, *args: str) -> None:
        assert self.bin is not None and self.datadir is not None
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.datadir), *args])

    def _bootstrap(self) -> None:
        with self.connect(self.superuser_dsn) as conn, conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (self.role,))
            if cur.fetchone() is None:
                cur.execute(
                    sql.SQL("CREATE ROLE {} LOGIN CREATEDB CREATEROLE PASSWORD %s").format(sql.Identifier(self.role)),
                    (self.password,),
                )
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.dbname,))
            if cur.fetchone() is None:
                cur.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(self.dbname), sql.Identifier(self.role)
                    )
                )

    def stop(self) -> None:
        """Stop the server and delete its files (external servers: drop our role and db)."""
        if self.external:
            with (
                contextlib.suppress(Exception),
                self.connect(self.superuser_dsn) as conn,
                conn.cursor() as cur,
            ):
                cur.execute(f"DROP DATABASE IF EXISTS {quote_ident(self.dbname)} WITH (FORCE)")
                cur.execute(f"DROP OWNED BY {quote_ident(self.role)}")
                cur.execute(f"DROP ROLE IF EXISTS {quote_ident(self.role)}")
            self.external = False
            return
        if self._running:
            with contextlib.suppress(subprocess.CalledProcessError):
                self._pg_ctl("stop", "-m", "immediate", "-w", "-t", "30")
            self._running = False
        if self.base is not None and self.base.exists():
            shutil.rmtree(self.base, ignore_errors=True)

    def restart(self) -> None:
        """Restart the server (fast shutdown: every connection is terminated)."""
        if self.external:
            pytest.skip("cannot restart an external server")
        self._pg_ctl("restart", "-m", "fast", "-w", "-t", "60", "-l", str(self.base / "server.log"))  # type: ignore[operator]

    def log_tail(self, n: int = 40) -> str:
        if self.base is None or not (self.base / "server.log").exists():
            return ""
        return "\n".join((self.base / "server.log").read_text(errors="replace").splitlines()[-n:])

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    @contextlib.contextmanager
    def connect(dsn: str) -> Iterator[Any]:
        """An autocommit psycopg2 connection to ``dsn``, closed at the end."""
        conn = psycopg2.connect(dsn)
        conn.autocommit = True
        try:
            yield conn
        finally:
            conn.close()

    def url(self, dbname: str | None = None, user: str | None = None, password: str | None = ...) -> str:  # type: ignore[assignment]
        """A TCP URL for ``user`` (default: the test role) on ``dbname``."""
        pw = self.password if password is ... else password
        return _with_userinfo(self.dsn, user or self.role, pw, dbname or self.dbname)

    def socket_url(self, dbname: str | None = None, user: str | None = None) -> str:
        """A URL over the Unix socket (``host=/dir`` query parameter; trust auth)."""
        if self.socket_dir is None:
            pytest.skip("no Unix socket for an external server")
        return (
            f"postgresql://{quote(user or self.role, safe='')}@/{quote(dbname or self.dbname, safe='')}"
            f"?host={quote(self.socket_dir, safe='')}&port={self.port}"
        )

    def execute(
        self, query: str, params: Any = None, *, dbname: str | None = None, superuser: bool = True
    ) -> list[tuple[Any, ...]]:
        """Run ``query`` (autocommit) and return its rows (empty for a command)."""
        dsn = self.superuser_dsn if superuser else self.dsn
        if dbname is not None:
            dsn = _with_userinfo(dsn, urlsplit(dsn).username or self.superuser, self.password, dbname)
        with self.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute(query, params)
            return list(cur.fetchall()) if cur.description is not None else []

    def create_database(self, prefix: str = "t") -> PgDatabase:
        """A new empty database owned by the test role (the caller drops it)."""
        name = f"{prefix}_{os.getpid()}_{next(self._db_counter)}"
        self.execute(f"CREATE DATABASE {quote_ident(name)} OWNER {quote_ident(self.role)}")
        return PgDatabase(self, name)


def quote_ident(name: str) -> str:
    """``name`` quoted as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


class PgDatabase:
    """A fresh database owned by the test role.

    :ivar name: the database name.
    :ivar dsn: TCP URL as the test role (password included).
    :ivar superuser_dsn: TCP URL as the superuser.
    """

    def __init__(self, server: PgServer, name: str) -> None:
        self.server = server
        self.name = name
        self.dsn = server.url(dbname=name)
        self.superuser_dsn = _with_userinfo(server.superuser_dsn, server.superuser, server.password, name)

    def execute(self, query: str, params: Any = None, *, superuser: bool = False) -> list[tuple[Any, ...]]:
        """Run ``query`` in this database (as the test role unless ``superuser``)."""
        with self.server.connect(self.superuser_dsn if superuser else self.dsn) as conn, conn.cursor() as cur:
            cur.execute(query, params)
            return list(cur.fetchall()) if cur.description is not None else []

    def connect(self, *, superuser: bool = False) -> contextlib.AbstractContextManager[Any]:
        return self.server.connect(self.superuser_dsn if superuser else self.dsn)

    def socket_url(self) -> str:
        return self.server.socket_url(dbname=self.name)

    def drop(self) -> None:
        with contextlib.suppress(Exception):
            self.server.execute(f"DROP DATABASE IF EXISTS {quote_ident(self.name)} WITH (FORCE)")


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    """A running PostgreSQL server for the whole test session."""
    server = PgServer()
    try:
        server.start()
    except Exception:
        server.stop()
        raise
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_db(pg: PgServer) -> Iterator[PgDatabase]:
    """A fresh database for one test, owned by ``pg.role``; dropped afterwards."""
    db = pg.create_database()
    try:
        yield db
    finally:
        db.drop()


class AdvisoryLock:
    """A session holding an advisory lock until :meth:`release` (closing the session lets
    go of it): whatever waits for that lock parks meanwhile (a test's brake), or it stands
    for another session that holds it. ``lock_sql`` takes ``key`` as its parameters."""

    def __init__(self, dsn: str, *key: Any, lock_sql: str = "SELECT pg_advisory_lock(%s)") -> None:
        self.conn = psycopg2.connect(dsn)
        self.conn.autocommit = True
        with self.conn.cursor() as cur:
            cur.execute(lock_sql, key)

    def release(self) -> None:
        if not self.conn.closed:
            self.conn.close()


def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it returns true or ``timeout`` passes (test helper)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
