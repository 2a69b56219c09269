"""The web's bindings to :mod:`adu_core.services`: the rules live there; this module
binds them to the current app and user, and holds the checks of form and API input.

The web never reads a source or writes a file for a job itself: it asks the source
plugin to *discover* (to show the tables), then queues a :class:`JobSpec` for a worker.
Passwords typed into a form are stored encrypted with the job (erased when it ends) and
nowhere else.
"""

from __future__ import annotations

import glob
from collections.abc import Mapping
from typing import Any

from adu_core.errors import UsageError
from adu_core.models import JobSpec, TableInfo
from adu_core.services import connections, discovery, jobs, policy
from adu_core.services.connections import ConnectionRef

from adu_web.state import actor, ctx

__all__ = [
    "MAX_PARALLEL",
    "ConnectionRef",
    "connection_refs",
    "discover",
    "load_spec_from",
    "spec_from_json",
    "split_password",
    "submit",
    "table_pattern",
]

MAX_PARALLEL = 64

split_password = policy.split_password


def connection_refs() -> tuple[list[ConnectionRef], str | None]:
    """Named connections shown as references, and an error line if the file is broken."""
    return connections.connection_refs(ctx())


def discover(source: str, password: str | None, options: Mapping[str, Any] | None = None) -> list[TableInfo]:
    """The tables of ``source`` (``@name`` or a URL), sorted by schema and name.

    :raises UsageError: with a message safe to show (no secret, no traceback).
    """
    return discovery.discover(ctx(), source, actor=actor(), password=password, options=options).tables


def table_pattern(qualified: str) -> str:
    """A ``schema.table`` name as an exact pattern (glob characters escaped)."""
    return glob.escape(qualified)


def submit(spec: JobSpec, *, password: str | None) -> str:
    """Check the form's or body's values and queue the job; returns its id."""
    if not 1 <= spec.parallel <= MAX_PARALLEL:
        raise UsageError(f"parallel must be between 1 and {MAX_PARALLEL}")
    return jobs.submit(ctx(), spec, actor=actor(), password=password)


def load_spec_from(
    directory: str, target: str, *, if_exists: str = "fail", tables: Any = None, schema_map: Any = None
) -> JobSpec:
    """A load job from a form or an API body; the web loads only into named connections
    (:func:`adu_core.services.policy.check_remote_load`, applied when it is submitted)."""
    from adu_core.services import loads

    target = (target or "").strip()
    if not target.startswith("@"):
        raise UsageError("a load from the web goes into a named connection (@name); ask an admin to add one")
    if tables is not None and (not isinstance(tables, list) or not all(isinstance(t, str) for t in tables)):
        raise UsageError("tables must be a list of schema.table names")
    if schema_map is not None and not isinstance(schema_map, dict):
        raise UsageError("schema_map must be an object: source schema -> target schema")
    return loads.load_spec(ctx(), directory, target, tables=tables or (), schema_map=schema_map, if_exists=if_exists)


def submit_load(spec: JobSpec) -> str:
    """Queue a load job for a worker; its id (a named connection keeps its own credential)."""
    from adu_core.services import loads

    return loads.submit_load(ctx(), spec, actor=actor())


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
