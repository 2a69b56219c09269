"""What a job or a discovery asked from the web (pages or API) may do.

A web user acts on the server with the server's rights, so what they type is checked
before anything runs: no path or name that makes the server read its own files or
environment (that belongs in an admin's named connection), output only below
``ADU_EXPORT_ROOT`` when it is set, rules files only below it or ``$ADU_DATA_DIR/rules``.
CLI and notebook users run as themselves and are not restricted. :func:`check_remote_spec`
is applied by :func:`adu_core.services.jobs.submit` for every remote actor.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from adu_core.config import Settings
from adu_core.errors import UsageError
from adu_core.models import JobSpec
from adu_core.secrets import redact_url, remember_secret, url_password
from adu_core.services import web_sources


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
    send the server's file to it as a password.) URL parameters are checked by
    :func:`adu_core.services.web_sources.check_source`, with the one URL parser."""
    web_sources.check_options(options)


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
    web_sources.check_options(spec.source_options)
    source, password = web_sources.check_source(settings, spec.source, password)
    remember_secret(password)
    sign_key = web_sources.check_sign_key(settings, spec.sign_key)
    spec = attrs.evolve(
        spec,
        source=source,
        target=check_target(settings, spec.target),
        rules=check_rules(settings, spec.rules),
        sign_key=sign_key,
    )
    return spec, password
