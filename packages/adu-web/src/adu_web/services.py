"""What the views share: named connections, discovery, job submission policy.

The web never reads a source or writes a file for a job itself: it asks the source
plugin to *discover* (to show the tables), then records a :class:`JobSpec` in the store
for a worker. Passwords typed into a form go to ``store.create_job(password=...)``
(encrypted at rest, erased when the job ends) and nowhere else.
"""

from __future__ import annotations

import glob
import logging
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
from adu_core import connections
from adu_core.connections import NamedConnection
from adu_core.errors import AduError, UsageError
from adu_core.models import JobSpec, TableInfo
from adu_core.planning import discovery_flags, reader_options
from adu_core.secrets import redact_text, redact_url, remember_secret, url_password
from adu_core.services.plugins import check_sink_options, check_source_options

from adu_web.state import settings, store

log = logging.getLogger("adu.web")

MAX_PARALLEL = 64


@attrs.frozen
class ConnectionRef:
    """A named connection as pages may show it: where the credential comes from, never
    the credential."""

    name: str
    url: str
    credential: str
    description: str


def load_connections() -> dict[str, NamedConnection]:
    """The admin-managed named connections; {} when there is no file."""
    return connections.load_connections(settings().connections_file)


def connection_refs() -> tuple[list[ConnectionRef], str | None]:
    """Named connections shown as references, and an error line if the file is broken."""
    try:
        conns = load_connections()
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


def resolve_source(source: str, password: str | None) -> str:
    """The URL to open for discovery, password included (never stored, never shown)."""
    return connections.resolve_source(source, password=password, connections_file=settings().connections_file)


def split_password(source: str, password: str | None) -> tuple[str, str | None]:
    """A URL typed with its password in it: move the password out of the URL."""
    source = source.strip()
    inline = url_password(source) if "://" in source else None
    if inline:
        remember_secret(inline)
        return redact_url(source, mask=""), password or inline
    return source, password or None


def _reads_the_server(key: str) -> bool:
    """Whether a source option or URL parameter makes the server read one of its own
    files or environment variables (``password_file``, ``password_env``, libpq's
    ``passfile`` and ``service``...): a path or name taken from a request."""
    k = key.strip().lower()
    return k in ("passfile", "service", "servicefile") or k.endswith(("_file", "_env"))


def check_source_inputs(source: str, options: Mapping[str, Any]) -> None:
    """Refuse what would make the server read its own files or environment for a web
    user: such a credential belongs in a named connection, which only an admin writes.
    (Otherwise a typed URL to one's own server with ``?password_file=/data/...`` would
    send the server's file to it as a password.)"""
    bad = [k for k in options if _reads_the_server(str(k))]
    if "://" in source and not source.startswith("@"):
        query = urllib.parse.urlsplit(source).query
        bad += [k for k, _v in urllib.parse.parse_qsl(query, keep_blank_values=True) if _reads_the_server(k)]
    if bad:
        raise UsageError(
            f"{', '.join(sorted(set(bad)))} cannot be set from the web (the server would read its own files or "
            "environment); ask an admin for a named connection"
        )


def discover(source: str, password: str | None, options: Mapping[str, Any] | None = None) -> list[TableInfo]:
    """The tables of ``source`` (``@name`` or a URL), sorted by schema and name.

    :param options: the job's source options (``include_views`` and ``include_foreign``
        widen the list; the others are checked by the source).
    :raises UsageError: with a message safe to show (no secret, no traceback).
    """
    from adu_core.plugin.manager import get_plugins

    options = dict(options or {})
    check_source_inputs(source, options)
    url = resolve_source(source, password)
    views, foreign = discovery_flags(options)
    try:
        src = get_plugins().open_source(url, reader_options(options))
    except AduError as exc:
        raise UsageError(redact_text(str(exc), [password or ""])) from None
    try:
        tables = src.discover(include_views=views, include_foreign=foreign)
    except AduError as exc:
        raise UsageError(redact_text(str(exc), [password or ""]).splitlines()[0]) from None
    except Exception:
        log.exception("discovery failed for %s", redact_url(url))
        raise UsageError("discovery failed; the service log has the details") from None
    finally:
        try:
            src.close()
        except Exception:
            log.warning("closing the source failed", exc_info=True)
    return sorted(tables, key=lambda t: (t.schema, t.name))


def check_target(text: str) -> str:
    """An output directory a web job may write: below ``ADU_EXPORT_ROOT`` when that is
    set (relative paths are taken from there), else any absolute path."""
    text = (text or "").strip()
    if not text or "\x00" in text:
        raise UsageError("give an output directory")
    root = settings().export_root
    path = Path(text).expanduser()
    if root is not None:
        full = (path if path.is_absolute() else root / path).resolve()
        if full != root and not full.is_relative_to(root):
            raise UsageError(f"the output directory must be inside {root}")
        return str(full)
    if not path.is_absolute():
        raise UsageError("the output directory must be an absolute path")
    return str(path.resolve())


def check_rules(text: str | None) -> str | None:
    """A rules file path or ``module:Class``; with ``ADU_EXPORT_ROOT`` set, files must be
    below it or below ``$ADU_DATA_DIR/rules``."""
    text = (text or "").strip()
    if not text:
        return None
    if "\x00" in text:
        raise UsageError("invalid rules file")
    root = settings().export_root
    looks_like_module = ":" in text and "/" not in text
    if root is not None and not looks_like_module:
        full = Path(text).expanduser().resolve()
        allowed = [root, (settings().data_dir / "rules").resolve()]
        if not any(full == a or full.is_relative_to(a) for a in allowed):
            raise UsageError(f"the rules file must be inside {allowed[0]} or {allowed[1]}")
        return str(full)
    return text


def table_pattern(qualified: str) -> str:
    """A ``schema.table`` name as an exact pattern (glob characters escaped)."""
    return glob.escape(qualified)


def submit(spec: JobSpec, *, password: str | None, user: str) -> str:
    """Apply the web's rules to ``spec`` and queue it; returns the job id."""
    source, password = split_password(spec.source, password)
    if not source:
        raise UsageError("give a source: a named connection or a URL")
    check_source_inputs(source, spec.source_options)
    if source.startswith("@"):
        if source[1:] not in load_connections():
            raise UsageError(f"no named connection {source[1:]!r}")
        password = None  # a named connection's credential is resolved by the worker
    if not 1 <= spec.parallel <= MAX_PARALLEL:
        raise UsageError(f"parallel must be between 1 and {MAX_PARALLEL}")
    # the options as the source's and the sink's schemas declare them (typed)
    source_options = check_source_options(source, spec.source_options, connections_file=settings().connections_file)
    sink_options = check_sink_options(spec.sink, spec.sink_options)
    spec = attrs.evolve(
        spec,
        source=source,
        target=check_target(spec.target),
        rules=check_rules(spec.rules),
        source_options=source_options,
        sink_options=sink_options,
    )
    job_id = store().create_job(spec, created_by=user, password=password)
    store().add_event(job_id, "INFO", f"job submitted from the web by {user}")
    log.info("job submitted", extra={"job_id": job_id, "user": user})
    return job_id


def spec_from_json(data: Mapping[str, Any]) -> tuple[JobSpec, str | None]:
    """A spec and its password from an API body (``password`` is not a spec field)."""
    if not isinstance(data, Mapping):
        raise UsageError("the body must be a JSON object")
    body = dict(data)
    password = body.pop("password", None)
    if password is not None and not isinstance(password, str):
        raise UsageError("password must be a string")
    try:
        spec = JobSpec.from_dict(body)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"invalid job spec: {exc}") from None
    return spec, password
