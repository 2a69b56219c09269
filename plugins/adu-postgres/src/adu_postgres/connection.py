"""Connecting to PostgreSQL: libpq URLs, passwords, session settings, error translation.

The URL is a libpq connection URI: ``postgresql://user[:password]@host[:port]/db?params``.
Every libpq parameter works as a query parameter (``sslmode``, ``sslrootcert``,
``sslcert``, ``sslkey``, ``connect_timeout``, ``host=/path/to/socket/dir``,
``passfile``...). The password comes, in this order, from:

1. the secret file named by the source option ``password_file`` or the URL parameter
   ``password_file`` (ADU's own; removed before libpq sees the URL; the first line of
   the file, as Docker secrets are mounted);
2. the URL's password;
3. libpq itself: ``PGPASSWORD``, then ``~/.pgpass`` (or ``PGPASSFILE``/``passfile``) —
   except for a URL a web user typed: the web policy marks it
   (:data:`adu_core.connspec.NO_IMPLICIT`) and then libpq is given the password
   explicitly (empty when none), an empty ``passfile``, ``require_auth`` limited to the
   password methods and ``gssencmode=disable``, and ``PGSERVICE`` must be unset, so no
   credential of the server's can reach the host the user named.

Every connection has a ``connect_timeout`` (the source option, the URL's, or
``ADU_CONNECT_TIMEOUT``, 10 s).

The password is registered with :func:`adu_core.secrets.remember_secret` so logs mask it,
and every driver message is passed through :func:`adu_core.secrets.redact_text`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg2
from adu_core import connspec
from adu_core.errors import ConnectError, SnapshotLost, SourceError, UsageError
from adu_core.secrets import redact_text, remember_secret, url_password

#: URL query parameters that are ADU's, not libpq's.
ADU_URL_PARAMS = ("password_file", connspec.NO_IMPLICIT)

#: SQL states after which a retry of the same partition may succeed.
RETRYABLE_STATES = {
    "57P01",  # admin_shutdown (pg_terminate_backend, fast shutdown)
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now (starting up / shutting down)
    "53300",  # too_many_connections
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
    "55P03",  # lock_not_available (lock_timeout)
}


#: Output settings fixed for every session, so values exported as PostgreSQL text
#: (arrays, ranges, composites, timetz...) do not depend on the role's or database's
#: defaults: ISO dates, PostgreSQL interval style, shortest exact floats, UTC, hex bytea.
SESSION_SETTINGS = (
    "SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 3;"
    " SET TimeZone = 'UTC'; SET bytea_output = 'hex'; SET idle_in_transaction_session_timeout = 0"
)


def split_url(url: str) -> tuple[str, dict[str, str]]:
    """``url`` without ADU's own query parameters, and those parameters."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise UsageError("a PostgreSQL source URL starts with postgresql:// or postgres://")
    query = parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in query if k in ADU_URL_PARAMS}
    rest = [(k, v) for k, v in query if k not in ADU_URL_PARAMS]
    clean = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), parts.fragment))
    return clean, ours


def read_password_file(path: str) -> str:
    """The first line of a secret file (without its line end)."""
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read the password file {path!r}: {exc.strerror}") from None
    lines = text.splitlines()
    return lines[0] if lines else ""


def resolve_password(url: str, options: Mapping[str, Any]) -> str | None:
    """The password ADU passes to libpq explicitly (None: libpq's own lookup decides)."""
    _clean, ours = split_url(url)
    path = options.get("password_file") or ours.get("password_file")
    if path:
        password: str | None = read_password_file(str(path))
    else:
        password = url_password(url)
    if password:
        remember_secret(password)
    return password


def connect(url: str, options: Mapping[str, Any], *, application_name: str = "adu") -> Any:
    """A psycopg2 connection (autocommit, UTF8, session timeouts from ``options``).

    Raises :class:`ConnectError` with a message free of secrets.
    """
    clean, ours = split_url(url)
    password = resolve_password(url, options)
    kwargs: dict[str, Any] = {"application_name": application_name, "client_encoding": "UTF8"}
    if password is not None:
        kwargs["password"] = password
    if ours.get(connspec.NO_IMPLICIT) == "1":
        # a URL from the web: nothing but what the user gave. Explicit values override
        # PGPASSWORD, PGPASSFILE and ~/.pgpass; a password-based method is required (no
        # trust, no Kerberos ticket of the server's); a service would fill in settings
        # from the server's service file, so none may be named by the environment.
        if os.environ.get("PGSERVICE"):
            raise ConnectError(
                "cannot connect to PostgreSQL: PGSERVICE is set in the server's environment, so a URL typed in the "
                "web cannot be used; ask an admin for a named connection"
            )
        kwargs.update(
            password=password or "",
            passfile=connspec.empty_file(),
            gssencmode="disable",
            require_auth="password,md5,scram-sha-256",
        )
    if "connect_timeout" in options:
        kwargs["connect_timeout"] = int(options["connect_timeout"])
    elif "connect_timeout" not in urlsplit(clean).query:
        kwargs["connect_timeout"] = connspec.connect_timeout()
    try:
        conn = psycopg2.connect(clean, **kwargs)
    except psycopg2.Error as exc:
        raise ConnectError(
            "cannot connect to PostgreSQL: " + clean_message(exc, password),
            sqlstate=getattr(exc, "pgcode", None),
            retryable=True,
        ) from None
    except Exception as exc:  # noqa: BLE001 - e.g. a malformed URI from libpq
        raise ConnectError("cannot connect to PostgreSQL: " + redact_text(str(exc), [password or ""])) from None
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for name in ("statement_timeout", "lock_timeout"):
                if options.get(name) is not None:
                    cur.execute("SELECT set_config(%s, %s, false)", (name, str(options[name])))
            cur.execute(SESSION_SETTINGS)
    except psycopg2.Error as exc:
        conn.close()
        raise UsageError("bad source option: " + clean_message(exc, password)) from None
    return conn


def clean_message(exc: BaseException, password: str | None = None) -> str:
    """The driver's message on one line, without secrets."""
    text = " ".join(str(exc).split())
    if isinstance(exc, psycopg2.Error) and exc.diag.message_primary and not text:
        text = exc.diag.message_primary
    return redact_text(text, [password] if password else []) or type(exc).__name__


def is_retryable(exc: BaseException) -> bool:
    """True for a dropped connection, a server restart and similar transient failures."""
    code = getattr(exc, "pgcode", None)
    if code:
        return code.startswith("08") or code in RETRYABLE_STATES
    # No SQL state: the connection broke (server closed it, network error) or libpq lost
    # the protocol mid-COPY ("error with status PGRES_COPY_OUT and no message"), which a
    # terminated backend also causes. A retry is bounded by the engine, so err on retrying.
    from adu_postgres.copystream import PgCopyError

    return isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError, psycopg2.DatabaseError, PgCopyError))


def source_error(exc: BaseException, *, context: str, user: str | None = None) -> SourceError:
    """A :class:`SourceError` for a driver exception raised while doing ``context``."""
    code = getattr(exc, "pgcode", None)
    msg = clean_message(exc)
    if code == "22023" and "snapshot" in msg.lower():
        return SnapshotLost(
            f"{context}: the snapshot this job reads from is gone — the PostgreSQL server restarted (or ended "
            "the session that held it) while the job ran, so the job cannot go on at the same point in time; "
            "the tables already published are kept, and `adu jobs retry` exports the rest from a new snapshot",
            sqlstate=code,
            retryable=False,
        )
    if code == "42501":
        who = f"role {user!r}" if user else "the connecting role"
        return SourceError(
            f"{context}: permission denied — {who} needs the SELECT privilege ({msg})",
            sqlstate=code,
            retryable=False,
        )
    return SourceError(f"{context}: {msg}", sqlstate=code, retryable=is_retryable(exc))


def server_version(conn: Any) -> tuple[str, int]:
    """``(server_version, server_version_num)``: as the server reported them when the
    connection started (libpq's parameter status: no round trip), else asked."""
    with contextlib.suppress(Exception):
        text, num = conn.get_parameter_status("server_version"), int(conn.server_version)
        if text and num > 0:
            return str(text), num
    with conn.cursor() as cur:
        cur.execute("SELECT current_setting('server_version'), current_setting('server_version_num')::int")
        row = cur.fetchone()
    return str(row[0]), int(row[1])


def quote_ident(name: str) -> str:
    """``name`` quoted as an SQL identifier (always quoted: case, spaces, quotes, unicode)."""
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def close_quietly(conn: Any) -> None:
    if conn is None:
        return
    with contextlib.suppress(Exception):
        conn.close()
