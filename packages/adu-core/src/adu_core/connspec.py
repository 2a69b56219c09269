"""One parser for source URLs: a URL becomes a typed :class:`ConnSpec`, and the URL a
job runs with is rebuilt from it.

Checking a URL with one parser and opening it with another is how filters are bypassed
(``postgresql://u@h:5432/#?passfile=...``: the fragment hid the parameter from the check,
libpq read it). So every URL a web user types goes through :func:`parse` once, and what
is queued or opened is :meth:`ConnSpec.url`, never the text they typed: fragments,
duplicate parameters, broken percent-encodings, control characters, socket-path hosts
and parameters outside the scheme's allow-list are refused with a one-line
:class:`~adu_core.errors.UsageError`.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from urllib.parse import quote, unquote

import attrs

from adu_core.errors import UsageError

#: network schemes and their default ports
NETWORK_SCHEMES = {"postgresql": 5432, "postgres": 5432, "vertica": 5433}
#: schemes whose "host" is a file on the server
FILE_SCHEMES = ("duckdb",)

#: URL parameters a web user may set, per scheme: nothing that names a server file, a
#: host, a user, a password or a service (those belong in a named connection)
WEB_PARAMS: dict[str, frozenset[str]] = {
    "postgresql": frozenset(
        {
            "sslmode",
            "connect_timeout",
            "application_name",
            "target_session_attrs",
            "channel_binding",
            "keepalives",
            "keepalives_idle",
            "keepalives_interval",
            "keepalives_count",
            "tcp_user_timeout",
        }
    ),
    "vertica": frozenset(
        {"tlsmode", "connection_timeout", "workload", "session_label", "binary_transfer", "connection_load_balance"}
    ),
    "duckdb": frozenset(),
}
WEB_PARAMS["postgres"] = WEB_PARAMS["postgresql"]

#: ADU's own URL parameter that makes the PostgreSQL source use no implicit credential
#: (no ``PGPASSWORD``, ``~/.pgpass``, ``PGPASSFILE``, ``PGSERVICE``): set by the web
#: policy on every typed URL, never by the user
NO_IMPLICIT = "adu_no_implicit_credentials"

#: the default connect timeout (seconds) of every connection ADU opens to a source
DEFAULT_CONNECT_TIMEOUT = 10

_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9\-_.]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])$")


@attrs.frozen
class ConnSpec:
    """A source URL, parsed.

    :param scheme: ``postgresql``, ``vertica``, ``duckdb`` (``file`` for a bare path).
    :param hosts: ``(host, port)`` pairs of a network source (libpq allows several).
    :param path: the file of a file source.
    :param params: the query parameters, in order, each key once.
    """

    scheme: str
    user: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    hosts: tuple[tuple[str, int | None], ...] = ()
    dbname: str = ""
    params: tuple[tuple[str, str], ...] = ()
    path: str | None = None

    @property
    def is_file(self) -> bool:
        return self.scheme in FILE_SCHEMES or self.scheme == "file"

    def param(self, key: str) -> str | None:
        return dict(self.params).get(key)

    def with_params(self, **values: str) -> ConnSpec:
        """The spec with ``values`` set (replacing any earlier value of those keys)."""
        kept = tuple((k, v) for k, v in self.params if k not in values)
        return attrs.evolve(self, params=kept + tuple(values.items()))

    def url(self, *, with_password: bool = False) -> str:
        """The URL rebuilt from the parts (the password only when asked)."""
        if self.scheme == "file":
            return self.path or ""
        if self.is_file:
            return f"{self.scheme}://{quote(self.path or '', safe='/')}"
        userinfo = ""
        if self.user is not None:
            userinfo = quote(self.user, safe="")
            if with_password and self.password is not None:
                userinfo += ":" + quote(self.password, safe="")
            userinfo += "@"
        hosts = ",".join(h + (f":{p}" if p is not None else "") for h, p in self.hosts)
        query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in self.params)
        return f"{self.scheme}://{userinfo}{hosts}/{quote(self.dbname, safe='')}" + (f"?{query}" if query else "")


def _decode(text: str, what: str) -> str:
    if _PERCENT.search(text):
        raise UsageError(f"the source URL has a broken percent-encoding in its {what}")
    value = unquote(text, errors="strict")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise UsageError(f"the source URL has a control character in its {what}")
    return value


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise UsageError("the source URL has a bad port")
    return int(text)


def _hosts(text: str, scheme: str) -> tuple[tuple[str, int | None], ...]:
    out: list[tuple[str, int | None]] = []
    for item in text.split(","):
        host, port = item, None
        if item.startswith("["):
            end = item.find("]")
            if end < 0:
                raise UsageError("the source URL has a bad IPv6 host")
            host, rest = item[: end + 1], item[end + 1 :]
            if rest:
                if not rest.startswith(":"):
                    raise UsageError("the source URL has a bad host")
                port = _port(rest[1:])
        elif ":" in item:
            host, _, p = item.rpartition(":")
            port = _port(p)
        host = _decode(host, "host")
        if not host:
            raise UsageError("the source URL names no host (a TCP host is required)")
        if host.startswith(("/", "@")) or not _HOST.match(host):
            raise UsageError("the source URL's host must be a TCP host name or address (no socket path)")
        out.append((host, port))
    return tuple(out)


def parse(url: str, *, allowed_params: frozenset[str] | None = None) -> ConnSpec:
    """``url`` as a :class:`ConnSpec`.

    :param allowed_params: the query parameters accepted (None: any, each once).
    :raises UsageError: in one line, without the password.
    """
    url = url.strip()
    if not url:
        raise UsageError("give a source URL")
    if any(ord(c) < 32 or ord(c) == 127 for c in url):
        raise UsageError("the source URL has a control character")
    if "://" not in url:
        return ConnSpec(scheme="file", path=url)
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme not in NETWORK_SCHEMES and scheme not in FILE_SCHEMES:
        raise UsageError(f"unknown source scheme {scheme!r}")
    if "#" in rest:
        raise UsageError("the source URL may not have a fragment ('#')")
    rest, _, query = rest.partition("?")
    params: list[tuple[str, str]] = []
    if query:
        seen: set[str] = set()
        for item in query.split("&"):
            if not item:
                raise UsageError("the source URL has an empty parameter")
            key, eq, value = item.partition("=")
            key = _decode(key, "parameters")
            if not eq or not key:
                raise UsageError(f"the source URL parameter {key!r} has no value")
            if key in seen:
                raise UsageError(f"the source URL sets {key!r} twice")
            seen.add(key)
            if allowed_params is not None and key not in allowed_params:
                raise UsageError(
                    f"{key} cannot be set from the web (allowed: {', '.join(sorted(allowed_params)) or 'none'}); "
                    "ask an admin for a named connection"
                )
            params.append((key, _decode(value, "parameters")))
    if scheme in FILE_SCHEMES:
        return ConnSpec(scheme=scheme, path=_decode(rest, "path"), params=tuple(params))
    netloc, slash, path = rest.partition("/")
    user = password = None
    if "@" in netloc:
        userinfo, _, netloc = netloc.rpartition("@")
        raw_user, colon, raw_pw = userinfo.partition(":")
        user = _decode(raw_user, "user name")
        password = _decode(raw_pw, "password") if colon else None
    dbname = _decode(path, "database name") if slash else ""
    if "/" in dbname:
        raise UsageError("the source URL's database name may not contain '/'")
    return ConnSpec(
        scheme=scheme,
        user=user,
        password=password,
        hosts=_hosts(netloc, scheme),
        dbname=dbname,
        params=tuple(params),
    )


_empty_lock = threading.Lock()
_empty_file: str | None = None


def empty_file() -> str:
    """An empty regular file of this process: given to libpq as ``passfile`` so it finds
    no password of the server's (``/dev/null`` is no regular file; libpq would warn)."""
    global _empty_file
    with _empty_lock:
        if _empty_file is None or not os.path.isfile(_empty_file) or os.path.getsize(_empty_file):
            import tempfile  # only here (with shutil, bz2, lzma: ~3 ms of every job's start)

            fd, path = tempfile.mkstemp(prefix="adu-empty-", suffix=".conf")
            os.close(fd)
            os.chmod(path, 0o600)
            _empty_file = path
        return _empty_file


def connect_timeout() -> int:
    """``ADU_CONNECT_TIMEOUT`` (seconds; default :data:`DEFAULT_CONNECT_TIMEOUT`): how long
    every connection ADU opens to a source waits for the server."""
    raw = os.environ.get("ADU_CONNECT_TIMEOUT", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return DEFAULT_CONNECT_TIMEOUT


def is_below(path: str | Path, root: Path) -> bool:
    """Whether ``path`` (symlinks resolved) is ``root`` or inside it."""
    full = Path(path).expanduser().resolve()
    return full == root or full.is_relative_to(root)
