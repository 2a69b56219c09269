"""What a job or a discovery asked from the web (pages or API) may do.

A web user acts on the server with the server's rights, so what they type is checked
before anything runs: no path or name that makes the server read its own files or
environment (that belongs in an admin's named connection), output only below
``ADU_EXPORT_ROOT`` when it is set, rules files only below it or ``$ADU_DATA_DIR/rules``.
CLI and notebook users run as themselves and are not restricted. :func:`check_remote_spec`
is applied by :func:`adu_core.services.jobs.submit` for every remote actor.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from adu_core.config import Settings
from adu_core.connections import load_connections
from adu_core.errors import NotFound, UsageError
from adu_core.manifest.io import manifest_job_id
from adu_core.models import JobSpec
from adu_core.secrets import redact_url, remember_secret, url_password
from adu_core.services import web_sources
from adu_core.store import JobRow, Store

#: the longest job name (label) a web user may give, as the form's field
MAX_LABEL = 200


def split_password(source: str, password: str | None) -> tuple[str, str | None]:
    """A URL typed with its password in it: the URL without it, and the password (an
    explicitly given ``password`` wins). The inline password is registered for masking."""
    source = source.strip()
    inline = url_password(source) if "://" in source else None
    if inline:
        remember_secret(inline)
        return redact_url(source, mask=""), password or inline
    return source, password or None


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


def _is_model_ref(text: str) -> bool:
    """``module:attr`` or ``file.py:attr`` (code the server would import), not a file."""
    head, colon, attr = text.rpartition(":")
    return bool(colon and head and attr and attr.replace("_", "a").replace(".", "a").isalnum())


def check_rules(settings: Settings, text: str | None) -> str | None:
    """The rules a web job may use: a rules file (YAML/JSON) below ``$ADU_DATA_DIR/rules``
    or ``ADU_EXPORT_ROOT`` — never code: a ``module:attr`` model (which the server would
    import, running its top level) only when an admin listed it in ``ADU_WEB_RULE_MODELS``."""
    text = (text or "").strip()
    if not text:
        return None
    if "\x00" in text:
        raise UsageError("invalid rules file")
    if text in settings.web_rule_models:
        return text
    if _is_model_ref(text) or text.lower().endswith((".py", ".pyc")):
        raise UsageError(
            "rules from the web must be a rules file; a Python model (module:attr) only when an admin allows it "
            "(ADU_WEB_RULE_MODELS)"
        )
    allowed = [(settings.data_dir / "rules").resolve()]
    if settings.export_root is not None:
        allowed.insert(0, settings.export_root)
    full = Path(text).expanduser()
    if not full.is_absolute():
        full = allowed[0] / full
    full = full.resolve()
    if not any(full == a or full.is_relative_to(a) for a in allowed):
        raise UsageError(f"the rules file must be inside {' or '.join(str(a) for a in allowed)}")
    return str(full)


def check_remote_spec(settings: Settings, spec: JobSpec, password: str | None) -> tuple[JobSpec, str | None]:
    """A web user's spec made safe to queue, and the password to store with it.

    The password is taken out of a typed URL; a named connection must exist and keeps
    its own credential (a typed password is dropped); target and rules are confined.
    """
    if spec.name is not None and len(spec.name) > MAX_LABEL:
        raise UsageError(f"the job's name is at most {MAX_LABEL} characters")
    web_sources.check_options(spec.source_options)
    source, password = web_sources.check_source(settings, spec.source, password)
    remember_secret(password)
    sign_key = web_sources.check_sign_key(settings, spec.sign_key)
    spec = attrs.evolve(
        spec,
        source=source,
        target=check_target(settings, spec.target),
        rules=check_rules(settings, spec.rules),
        after=check_after(settings, spec.after),
        sign_key=sign_key,
    )
    return spec, password


def check_load_source(settings: Settings, text: str) -> str:
    """An export directory a web load may read: below ``ADU_EXPORT_ROOT`` when that is set."""
    return check_target(settings, text)


def check_remote_load(settings: Settings, spec: JobSpec, password: str | None) -> tuple[JobSpec, str | None]:
    """A web user's load made safe to queue: its target must be a named connection (the
    web never takes a database URL or password for a load), its export directory is
    confined like an export's output, and no option may name a file on the server."""
    if spec.name is not None and len(spec.name) > MAX_LABEL:
        raise UsageError(f"the job's name is at most {MAX_LABEL} characters")
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


def export_owner(store: Store, target: str) -> JobRow | None:
    """The job of this store whose export ``target`` holds (its manifest names it), or None
    when the directory is absent or empty.

    :raises UsageError: the directory holds something no job of this store wrote (no
        manifest, an unreadable one, or one naming a job this store does not know).
    """
    path = Path(target)
    if not path.is_dir():
        return None
    entries = [e for e in path.iterdir() if not e.name.startswith(".adu")]
    if not entries:
        return None
    job_id = manifest_job_id(path)
    if job_id is None:
        raise UsageError(f"{target} holds no ADU export (no readable manifest); refusing to replace it")
    try:
        job = store.get_job(job_id)
    except NotFound:
        job = None
    if job is None or job.id != job_id:
        raise UsageError(f"the export in {target} was not written by a job of this server; refusing to replace it")
    return job


def check_overwrite(store: Store, spec: JobSpec, username: str, is_admin: bool) -> None:
    """A web user's ``overwrite``: only an export this server wrote, of a job they
    submitted (an admin: any such export)."""
    if not spec.overwrite:
        return
    owner = export_owner(store, spec.target)
    if owner is not None and not is_admin and owner.created_by != username:
        raise UsageError(
            f"the export in {spec.target} belongs to {owner.created_by}; only they or an admin may replace it"
        )
