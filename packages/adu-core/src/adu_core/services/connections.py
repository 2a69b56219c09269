"""Named connections as the pages may show them: where a credential comes from, never
the credential."""

from __future__ import annotations

import logging

import attrs

from adu_core.connections import load_connections, load_keys
from adu_core.errors import AduError
from adu_core.secrets import redact_text, redact_url
from adu_core.services.context import Context

log = logging.getLogger("adu.services")


@attrs.frozen
class ConnectionRef:
    """A named connection as pages may show it."""

    name: str
    url: str
    credential: str
    description: str


def signing_key_names(ctx: Context) -> list[str]:
    """The names of the signing keys an admin registered (``keys:`` in the connections
    file), for the admin page and the API's error messages; never their paths."""
    try:
        return sorted(load_keys(ctx.settings.connections_file))
    except AduError:
        return []


def connection_refs(ctx: Context) -> tuple[list[ConnectionRef], str | None]:
    """The named connections (by name), and an error line when the file is broken."""
    try:
        conns = load_connections(ctx.settings.connections_file)
    except AduError as exc:
        return [], redact_text(str(exc))
    except Exception:
        log.exception("cannot read the named connections file")
        return [], "The named connections file cannot be read; see the service log."
    refs = []
    for name in sorted(conns):
        c = conns[name]
        if c.password_env:
            cred = f"environment variable {c.password_env}"
        elif c.password_file:
            cred = f"secret file {c.password_file}"
        else:
            cred = "none (trust, peer or certificate authentication)"
        refs.append(ConnectionRef(name=name, url=redact_url(c.url), credential=cred, description=c.description))
    return refs, None
