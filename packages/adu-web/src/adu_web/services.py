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
