"""Named connections: an admin-managed YAML file, credentials by reference only.

The file (``ADU_CONNECTIONS_FILE``, default ``$ADU_DATA_DIR/connections.yaml``)::

    connections:
      warehouse:
        url: postgresql://exporter@db.internal:5432/prod
        password_env: WAREHOUSE_PASSWORD        # or:
        password_file: /run/secrets/warehouse    # (Docker secrets)
        description: Production warehouse, read replica

A job's source ``@warehouse`` names one; it is resolved when the job runs, so the
store only ever holds the name.

The same file holds the signing keys web and API jobs may use, by name (a web user
names a key, never a path on the server)::

    keys:
      release:
        path: /run/secrets/adu_signing.key
        description: the release key
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from adu_core.errors import UsageError
from adu_core.secrets import redact_url, remember_secret, url_password, with_password


@attrs.frozen
class NamedConnection:
    name: str
    url: str
    password_env: str | None = None
    password_file: str | None = None
    description: str = ""

    def password(self) -> str | None:
        """The password from the environment or the secret file (never from the file itself)."""
        if self.password_env:
            value = os.environ.get(self.password_env)
            if value is None:
                raise UsageError(f"connection {self.name!r}: environment variable {self.password_env} is not set")
            return value
        if self.password_file:
            try:
                return Path(self.password_file).read_text().rstrip("\r\n")
            except OSError as exc:
                raise UsageError(f"connection {self.name!r}: cannot read its password file: {exc.strerror}") from None
        return None

    def reference(self) -> dict[str, Any]:
        """What pages may show: the URL without password and where the password comes from."""
        return {
            "name": self.name,
            "url": redact_url(self.url),
            "password_from": (
                f"env:{self.password_env}"
                if self.password_env
                else f"file:{self.password_file}"
                if self.password_file
                else None
            ),
            "description": self.description,
        }


def _load(path: Path) -> Mapping[str, Any]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsageError(f"cannot read the connections file {path}: {exc.strerror}") from None
    import yaml  # only when a connections file exists (~10 ms of import)

    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    return data if isinstance(data, Mapping) else {}


def load_connections(path: Path) -> dict[str, NamedConnection]:
    """The named connections in ``path`` (an empty mapping when the file is absent)."""
    data = _load(path)
    if not data or ("connections" not in data and "keys" in data):
        return {}  # empty, or signing keys only
    entries = data.get("connections") if isinstance(data, Mapping) else None
    if not isinstance(entries, Mapping):
        raise UsageError(f"{path}: expected a mapping 'connections:'")
    out: dict[str, NamedConnection] = {}
    for name, entry in entries.items():
        if not isinstance(entry, Mapping) or "url" not in entry:
            raise UsageError(f"{path}: connection {name!r} needs a 'url'")
        if url_password(str(entry["url"])):
            raise UsageError(
                f"{path}: connection {name!r} holds a password in its URL; use password_env or password_file"
            )
        out[str(name)] = NamedConnection(
            name=str(name),
            url=str(entry["url"]),
            password_env=entry.get("password_env"),
            password_file=entry.get("password_file"),
            description=str(entry.get("description", "")),
        )
    return out


@attrs.frozen
class SigningKey:
    """A signing key an admin registered by name (``keys:`` in the connections file)."""

    name: str
    path: str
    description: str = ""


#: how a job names a registered signing key: ``@name``
KEY_PREFIX = "@"


def load_keys(path: Path) -> dict[str, SigningKey]:
    """The signing keys registered in the connections file ``path``."""
    entries = _load(path).get("keys") or {}
    if not isinstance(entries, Mapping):
        raise UsageError(f"{path}: expected a mapping 'keys:'")
    out: dict[str, SigningKey] = {}
    for name, entry in entries.items():
        if isinstance(entry, str):
            entry = {"path": entry}
        if not isinstance(entry, Mapping) or not entry.get("path"):
            raise UsageError(f"{path}: signing key {name!r} needs a 'path'")
        out[str(name)] = SigningKey(str(name), str(entry["path"]), str(entry.get("description", "")))
    return out


def resolve_sign_key(sign_key: str | None, connections_file: Path) -> str | None:
    """The key file of a job's ``sign_key``: ``@name`` is looked up among the registered
    keys (the message never says anything about a server path); anything else is a
    path given by a local user (the CLI, a notebook)."""
    if not sign_key or not sign_key.startswith(KEY_PREFIX):
        return sign_key
    key = load_keys(connections_file).get(sign_key[len(KEY_PREFIX) :])
    if key is None:
        raise UsageError(f"no signing key named {sign_key[len(KEY_PREFIX) :]!r}; an admin registers keys by name")
    return key.path


def resolve_source(source: str, *, password: str | None, connections_file: Path) -> str:
    """The URL to open for a job's ``source``: a named connection (``@name``) is looked
    up, and the password (given, or from the connection's reference) is put back in."""
    if source.startswith("@"):
        conns = load_connections(connections_file)
        conn = conns.get(source[1:])
        if conn is None:
            raise UsageError(f"unknown named connection {source!r}")
        url = conn.url
        password = password or conn.password()
    else:
        url = source
    remember_secret(password, url_password(url))
    if password and not url_password(url):
        url = with_password(url, password)
    return url
