"""What a job or a discovery asked from the web (pages or API) may do.

A web user acts on the server with the server's rights, so what they type is checked
before anything runs: no path or name that makes the server read its own files or
environment (that belongs in an admin's named connection), output only below
``ADU_EXPORT_ROOT`` when it is set, rules files only below it or ``$ADU_DATA_DIR/rules``.
CLI and notebook users run as themselves and are not restricted. :func:`check_remote_spec`
is applied by :func:`adu_core.services.jobs.submit` for every remote actor.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from adu_core.config import Settings
from adu_core.connections import load_connections
from adu_core.errors import UsageError
from adu_core.models import JobSpec
from adu_core.secrets import redact_url, remember_secret, url_password


def split_password(source: str, password: str | None) -> tuple[str, str | None]:
    """A URL typed with its password in it: the URL without it, and the password (an
    explicitly given ``password`` wins). The inline password is registered for masking."""
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


def check_target(settings: Settings, text: str) -> str:
    """An output directory a web job may write: below ``ADU_EXPORT_ROOT`` when that is
    set (relative paths are taken from there), else any absolute path."""
    text = (text or "").strip()
    if not text or "\x00" in text:
        raise UsageError("give an output directory")
    root = settings.export_root
    path = Path(text).expanduser()
    if root is not None:
        full = (path if path.is_absolute() else root / path).resolve()
        if full != root and not full.is_relative_to(root):
            raise UsageError(f"the output directory must be inside {root}")
        return str(full)
    if not path.is_absolute():
        raise UsageError("the output directory must be an absolute path")
    return str(path.resolve())


def check_rules(settings: Settings, text: str | None) -> str | None:
    """A rules file path or ``module:Class``; with ``ADU_EXPORT_ROOT`` set, files must be
    below it or below ``$ADU_DATA_DIR/rules``."""
    text = (text or "").strip()
    if not text:
        return None
    if "\x00" in text:
        raise UsageError("invalid rules file")
    root = settings.export_root
    looks_like_module = ":" in text and "/" not in text
    if root is not None and not looks_like_module:
        full = Path(text).expanduser().resolve()
        allowed = [root, (settings.data_dir / "rules").resolve()]
        if not any(full == a or full.is_relative_to(a) for a in allowed):
            raise UsageError(f"the rules file must be inside {allowed[0]} or {allowed[1]}")
        return str(full)
    return text


def check_remote_spec(settings: Settings, spec: JobSpec, password: str | None) -> tuple[JobSpec, str | None]:
    """A web user's spec made safe to queue, and the password to store with it.

    The password is taken out of a typed URL; a named connection must exist and keeps
    its own credential (a typed password is dropped); target and rules are confined.
    """
    source, password = split_password(spec.source, password)
    if not source:
        raise UsageError("give a source: a named connection or a URL")
    check_source_inputs(source, spec.source_options)
    if source.startswith("@"):
        if source[1:] not in load_connections(settings.connections_file):
            raise UsageError(f"no named connection {source[1:]!r}")
        password = None  # a named connection's credential is resolved by the worker
    spec = attrs.evolve(
        spec,
        source=source,
        target=check_target(settings, spec.target),
        rules=check_rules(settings, spec.rules),
        after=check_after(settings, spec.after),
    )
    return spec, password


def check_load_source(settings: Settings, text: str) -> str:
    """An export directory a web load may read: below ``ADU_EXPORT_ROOT`` when that is set."""
    return check_target(settings, text)


def check_remote_load(settings: Settings, spec: JobSpec, password: str | None) -> tuple[JobSpec, str | None]:
    """A web user's load made safe to queue: its target must be a named connection (the
    web never takes a database URL or password for a load), its export directory is
    confined like an export's output, and no option may name a file on the server."""
    target = (spec.target or "").strip()
    if not target.startswith("@"):
        raise UsageError("a load from the web goes into a named connection (@name); ask an admin to add one")
    if target[1:] not in load_connections(settings.connections_file):
        raise UsageError(f"no named connection {target[1:]!r}")
    if spec.source_options.get("public_key"):
        key = check_load_source(settings, str(spec.source_options["public_key"]))
        spec = attrs.evolve(spec, source_options={**spec.source_options, "public_key": key})
    return attrs.evolve(spec, source=check_load_source(settings, spec.source), target=target), None


def check_after(settings: Settings, text: str | None) -> str | None:
    """What a web delta continues: ``last`` (the job store's newest export of the
    source), or an export directory confined as an output directory is."""
    if text is None or not text.strip():
        return None
    if text.strip().lower() == "last":
        return "last"
    return check_target(settings, text)
