"""``vertica://`` URLs to vertica-python connections, and driver errors to ADU errors.

URL form::

    vertica://user[:password]@host[:5433]/database?option=value&...

Options (query string, or the job's source options, which win):

``password_env``            name of an environment variable holding the password
``password_file``           path of a file holding the password (Docker secrets)
``tlsmode``                 disable | prefer (default) | require | verify-ca | verify-full
``tls_cafile`` ``tls_certfile`` ``tls_keyfile``   files for TLS
``connection_load_balance`` 1/true: let the server redirect to a less busy node
``backup_server_node``      comma-separated ``host[:port]`` tried when the host is down
``connection_timeout``      seconds (float) for connecting and each socket operation
``workload`` ``session_label``   passed to the server
``binary_transfer``         1/true (default): results in Vertica's binary format; 0/false: text

The password is never logged, printed or kept anywhere but in the driver's options; it
is registered with :func:`adu_core.secrets.remember_secret` so logs mask it.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import vertica_python
from adu_core import connspec
from adu_core.errors import ConnectError, SourceError, UsageError
from adu_core.secrets import redact_url, remember_secret
from vertica_python import errors as verrors

DEFAULT_PORT = 5433
_BOOL = {"1": True, "true": True, "on": True, "yes": True, "0": False, "false": False, "off": False, "no": False}
_PASSTHROUGH = {
    "tlsmode",
    "tls_cafile",
    "tls_certfile",
    "tls_keyfile",
    "workload",
    "session_label",
    "kerberos_service_name",
    "kerberos_host_name",
}
_KNOWN = _PASSTHROUGH | {
    "password_env",
    "password_file",
    "connection_load_balance",
    "backup_server_node",
    "connection_timeout",
    "binary_transfer",
}


def connection_options(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """vertica-python ``connect()`` keyword arguments for ``url`` (password included)."""
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORT
    except ValueError as e:
        raise UsageError(f"bad Vertica URL {redact_url(url)}: {e}") from None
    if parts.scheme != "vertica":
        raise UsageError(f"not a vertica:// URL: {redact_url(url)}")
    if not parts.hostname:
        raise UsageError(f"the Vertica URL names no host: {redact_url(url)}")
    query: dict[str, Any] = dict(parse_qsl(parts.query, keep_blank_values=False))
    for k, v in (options or {}).items():
        if k in _KNOWN:
            query[k] = v
    unknown = set(query) - _KNOWN
    if unknown:
        raise UsageError(f"unknown Vertica URL option(s): {', '.join(sorted(unknown))}")
    opts: dict[str, Any] = {
        "host": parts.hostname,
        "port": port,
        "user": unquote(parts.username or "") or os.environ.get("USER", "dbadmin"),
        "database": unquote(parts.path.lstrip("/")),
        "binary_transfer": True,
        "request_complex_types": True,
        "autocommit": True,
        "tlsmode": "prefer",
    }
    password = unquote(parts.password) if parts.password is not None else None
    if "password_env" in query:
        var = str(query["password_env"])
        if var not in os.environ:
            raise UsageError(f"environment variable {var} (password_env) is not set")
        password = os.environ[var]
    if "password_file" in query:
        path = Path(str(query["password_file"]))
        try:
            password = path.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as e:
            raise UsageError(f"cannot read the password file {path}: {e.strerror}") from None
    if password:
        remember_secret(password)
        opts["password"] = password
    for k in _PASSTHROUGH:
        if k in query:
            opts[k] = str(query[k])
    if "connection_load_balance" in query:
        opts["connection_load_balance"] = _flag(query["connection_load_balance"], "connection_load_balance")
    if "binary_transfer" in query:
        opts["binary_transfer"] = _flag(query["binary_transfer"], "binary_transfer")
    if "connection_timeout" in query:
        try:
            opts["connection_timeout"] = float(query["connection_timeout"])
        except ValueError:
            raise UsageError("connection_timeout must be a number of seconds") from None
    if "backup_server_node" in query:
        opts["backup_server_node"] = parse_nodes(str(query["backup_server_node"]))
    return opts


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    try:
        return _BOOL[str(value).lower()]
    except KeyError:
        raise UsageError(f"{name} must be true or false") from None


def parse_nodes(text: str) -> list[tuple[str, int]]:
    """``h1:5433,h2,[::1]:5434`` -> ``[(h1, 5433), (h2, 5433), (::1, 5434)]``."""
    nodes = []
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            port = rest.lstrip(":") or str(DEFAULT_PORT)
        elif item.count(":") == 1:
            host, port = item.split(":")
        else:
            host, port = item, str(DEFAULT_PORT)
        if not port.isdigit():
            raise UsageError(f"bad backup_server_node entry {item!r}")
        nodes.append((host, int(port)))
    return nodes


def connect(url: str, options: Mapping[str, Any] | None = None) -> Any:
    """An open vertica-python connection, or :class:`ConnectError` saying why not."""
    opts = connection_options(url, options)
    # a connect timeout on every connection (ADU_CONNECT_TIMEOUT); the driver would keep it
    # for every later read too, so it is lifted once connected (a long query may be silent)
    default_timeout = "connection_timeout" not in opts
    if default_timeout:
        opts["connection_timeout"] = float(connspec.connect_timeout())
    where = f"{opts['host']}:{opts['port']}"
    if opts.get("backup_server_node"):
        where += " (and backup nodes " + ", ".join(f"{h}:{p}" for h, p in opts["backup_server_node"]) + ")"
    with warnings.catch_warnings(record=True) as caught:
        # the driver warns when TLS is preferred but refused, or load balancing is off
        warnings.simplefilter("always")
        try:
            conn = vertica_python.connect(**opts)
        except verrors.ConnectionError as e:
            close_failed_connection(e)
            text = str(e)
            if "28000" in text or "28P01" in text or "password" in text.lower():
                raise ConnectError(
                    f"Vertica refused the credentials of user {opts['user']!r} at {where} "
                    "(SQLSTATE 28000: invalid username or password)",
                    sqlstate="28000",
                ) from None
            raise ConnectError(f"cannot connect to Vertica at {where}: {_clean(text)}") from None
        except (OSError, verrors.Error) as e:
            close_failed_connection(e)
            raise ConnectError(f"cannot connect to Vertica at {where}: {_clean(str(e))}") from None
    import logging

    for w in caught:
        logging.getLogger(__name__).warning("vertica-python: %s", str(w.message).splitlines()[0])
    if default_timeout:
        with contextlib.suppress(Exception):
            conn._socket().settimeout(None)
    return conn


def close_failed_connection(exc: BaseException) -> None:
    """Close the socket of a connection whose start-up failed.

    vertica-python raises from ``Connection.__init__`` (wrong password, refused start-up)
    without closing the socket it opened; find that half-built connection in the
    traceback and close it, so no socket is left for the garbage collector.
    """
    from vertica_python.vertica.connection import Connection

    tb = exc.__traceback__
    while tb is not None:
        obj = tb.tb_frame.f_locals.get("self")
        if isinstance(obj, Connection):
            with contextlib.suppress(Exception):
                obj.close_socket()
            return
        tb = tb.tb_next


def _clean(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else "connection failed"
    return first


def source_error(e: BaseException, what: str, *, epoch: int | None = None) -> SourceError:
    """A driver exception (or a server ErrorResponse) as a clear :class:`SourceError`.

    ``epoch``: the job's epoch, named when Vertica refuses it as older than its Ancient
    History Mark.
    """
    response = getattr(e, "response", None) or getattr(e, "error_response", None)
    sqlstate = getattr(response, "sqlstate", None) if response is not None else None
    message = getattr(response, "message", None) if response is not None else None
    message = message or _clean(str(e))
    if "ancient history mark" in message.lower():
        at = f"epoch {epoch}" if epoch is not None else "the job's epoch"
        return SourceError(
            f"{what}: Vertica no longer keeps {at}, the point in time this export reads: its Ancient "
            "History Mark moved past it while the job ran (history older than the AHM may be purged). "
            "Export again to read a newer epoch; for exports that run longer than the AHM advances, "
            f"raise Vertica's HistoryRetentionTime ({message})",
            sqlstate=sqlstate,
        )
    if sqlstate == "42501":
        return SourceError(
            f"{what}: permission denied — the user lacks the SELECT privilege "
            f"(and USAGE on the schema) ({message}; SQLSTATE 42501)",
            sqlstate=sqlstate,
        )
    if sqlstate == "57014":
        return SourceError(f"{what}: the query was cancelled ({message})", sqlstate=sqlstate)
    if sqlstate in ("08006", "V1001", "57P01", "57P02", "57P03", "53000", "53200") or isinstance(
        e, (verrors.ConnectionError, OSError, ConnectionError)
    ):
        return SourceError(f"{what}: connection to Vertica lost ({message})", sqlstate=sqlstate, retryable=True)
    return SourceError(f"{what}: {message}" + (f" (SQLSTATE {sqlstate})" if sqlstate else ""), sqlstate=sqlstate)
