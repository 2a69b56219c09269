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
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import yaml

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


def load_connections(path: Path) -> dict[str, NamedConnection]:
    """The named connections in ``path`` (an empty mapping when the file is absent)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsageError(f"cannot read the connections file {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
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
