"""What a web or API user may name as a job's source or signing key: the one place of
the policy, for the pages and the API, for discovery and for jobs.

A web user acts with the server's rights, so a source they type must never let the
server use one of its own credentials (``PGPASSWORD``, ``~/.pgpass``, a service file,
local trust or peer authentication through a socket) or read one of its own files:

- a named connection (``@name``, admin-written) is always allowed;
- a typed URL only when ``ADU_WEB_ALLOW_URLS`` allows it (default: yes in development,
  no in production), parsed once by :mod:`adu_core.connspec` and rebuilt from the parts:
  TCP hosts only, matching ``ADU_WEB_ALLOWED_HOSTS``, only harmless parameters, a
  password required, and the PostgreSQL source told to use no implicit credential;
- a file source (``duckdb://``, a bare path) only below ``ADU_WEB_FILE_ROOT``;
- a signing key only by the name an admin registered (never a path; the message never
  says whether a path exists).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from adu_core import connspec
from adu_core.config import Settings
from adu_core.connections import KEY_PREFIX, load_connections, load_keys
from adu_core.errors import UsageError

#: source options a web user may never set: they name server files or environment
#: variables, or widen what a file source may read
FORBIDDEN_OPTIONS = ("external_access",)


def check_options(options: Mapping[str, Any]) -> None:
    """Refuse source options that would make the server read its own files or
    environment (``*_file``, ``*_env``, ``passfile``, ``service``...)."""
    bad = [
        str(k)
        for k in options
        if str(k).strip().lower() in ("passfile", "service", "servicefile", "host", "hostaddr", *FORBIDDEN_OPTIONS)
        or str(k).strip().lower().endswith(("_file", "_env"))
        or any(w in str(k).lower() for w in ("password", "passwd", "secret", "token"))  # sslpassword...
    ]
    if bad:
        raise UsageError(
            f"{', '.join(sorted(set(bad)))} cannot be set from the web (the server would read its own files or "
            "environment); ask an admin for a named connection"
        )


def _host_allowed(settings: Settings, host: str, port: int | None) -> bool:
    host = host.lower().strip("[]")
    for pattern in settings.web_allowed_hosts:
        pattern = pattern.lower()
        if fnmatch.fnmatchcase(host, pattern):
            return True
        if port is not None and fnmatch.fnmatchcase(f"{host}:{port}", pattern):
            return True
    return False


def check_source(settings: Settings, source: str, password: str | None) -> tuple[str, str | None]:
    """The source a web user's job or discovery opens, and its password.

    :param source: ``@name`` or a URL or path as typed (its password, if any, included).
    :param password: a password typed beside it.
    :returns: the source to queue or open (``@name``, or the URL rebuilt without its
        password) and the password to use (None for a named connection, which keeps its
        own).
    :raises UsageError: in one line, never with the password, never saying whether a
        server path exists.
    """
    source = source.strip()
    if not source:
        raise UsageError("give a source: a named connection or a URL")
    if source.startswith("@"):
        if source[1:] not in load_connections(settings.connections_file):
            raise UsageError(f"no named connection {source[1:]!r}")
        return source, None
    if not settings.web_allow_urls:
        raise UsageError(
            "typed source URLs are not allowed on this server (ADU_WEB_ALLOW_URLS); use a named connection"
        )
    scheme = source.partition("://")[0].lower() if "://" in source else "file"
    spec = connspec.parse(source, allowed_params=connspec.WEB_PARAMS.get(scheme, frozenset()))
    if spec.is_file:
        root = settings.web_file_root
        if root is None or not spec.path or not connspec.is_below(spec.path, root):
            raise UsageError(
                "file sources from the web must be below ADU_WEB_FILE_ROOT"
                + ("" if root is None else f" ({root})")
                + "; ask an admin for a named connection"
            )
        return attrs.evolve(spec, path=str(Path(spec.path).expanduser().resolve())).url(), None
    password = password or spec.password
    if not password:
        raise UsageError(
            "a typed source URL needs a password (the server's own credentials are never used for it); "
            "or use a named connection"
        )
    for host, port in spec.hosts:
        if not _host_allowed(settings, host, port):
            raise UsageError(f"host {host!r} is not allowed here (ADU_WEB_ALLOWED_HOSTS)")
    if spec.user is None:
        raise UsageError("a typed source URL needs a user name (user@host)")
    if spec.scheme in ("postgresql", "postgres"):
        spec = spec.with_params(**{connspec.NO_IMPLICIT: "1"})
    return spec.url(), password


def check_sign_key(settings: Settings, sign_key: str | None) -> str | None:
    """A web job's signing key: the name of a key an admin registered (``release`` or
    ``@release``), stored as ``@release`` and resolved when the job runs."""
    if not sign_key:
        return None
    name = sign_key.strip().removeprefix(KEY_PREFIX)
    keys = load_keys(settings.connections_file)
    if name not in keys:
        raise UsageError(
            "sign_key must be the name of a signing key an admin registered"
            + (f" ({', '.join(sorted(keys))})" if keys else " (none is registered)")
        )
    return KEY_PREFIX + name
