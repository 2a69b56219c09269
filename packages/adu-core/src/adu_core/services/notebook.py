"""The notebook API, also reachable as ``adu_core.export`` & co.::

    import adu_core as adu

    result = adu.export("postgresql://me@db/prod", "/exports/today", tables=["sales.*"], progress=True)
    adu.jobs()                     # the same job store as `adu jobs list` and the dashboard
    adu.discover("postgresql://me@db/prod").tables
    adu.verify("/exports/today").ok

Jobs run in this process and are recorded in the store of ``ADU_DATA_DIR`` (or
``ADU_STORE_URL``), like CLI and web jobs; a password (in the URL, or ``password=``) stays
in memory and is never stored.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from adu_core.models import JobResult, JobSpec, TableSelection
from adu_core.services import discovery, running
from adu_core.services import jobs as jobs_service
from adu_core.services.context import Actor, Context
from adu_core.services.formatting import human_bytes, human_duration
from adu_core.services.progress import ProgressDisplay

if TYPE_CHECKING:
    from adu_core.services.discovery import Discovery
    from adu_core.services.jobs import JobRow

_lock = threading.Lock()
_context: Context | None = None


def default_context() -> Context:
    """The context of this process, from the environment (made on first use)."""
    global _context
    with _lock:
        if _context is None:
            _context = Context()
        return _context


def _names(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def summary(result: JobResult, elapsed: float | None = None) -> str:
    """One line about a finished job."""
    took = f" in {human_duration(elapsed)}" if elapsed is not None else ""
    return (
        f"job {result.job_id} {result.status.value}: {len(result.tables)} table(s), {result.rows:,} rows, "
        f"{human_bytes(result.bytes)}{took}"
    )


def export(
    source: str,
    target: str | os.PathLike[str],
    *,
    tables: str | Sequence[str] | None = None,
    schemas: str | Sequence[str] | None = None,
    exclude: str | Sequence[str] | None = None,
    password: str | None = None,
    parallel: int | None = None,
    rules: str | None = None,
    validate: bool = True,
    overwrite: bool = False,
    sign_key: str | os.PathLike[str] | None = None,
    source_options: Mapping[str, Any] | None = None,
    sink_options: Mapping[str, Any] | None = None,
    name: str | None = None,
    progress: bool = False,
    executor: str | None = None,
    context: Context | None = None,
    profile: str = "portable",
    cursors: Mapping[str, str] | None = None,
    after: str | os.PathLike[str] | None = None,
) -> JobResult:
    """Export tables of ``source`` to Parquet in ``target``, now, in this process.

    :param tables: ``schema.table`` names or glob patterns (``"sales.*"``).
    :param schemas: every table of these schemas (globs); with neither, every table.
    :param progress: show live progress (a bar in Jupyter, a line on a terminal).
    :param profile: the far-side profile, ``portable`` (default) or ``exact`` (see the README).
    :param cursors: ``{"schema.table": column}``: monotonically increasing columns whose
        watermarks the manifest records (incremental exports).
    :param after: a delta: an export directory (verified first) or ``"last"``; only rows
        past its watermarks are exported.
    :returns: the job's result; ``result.status`` says whether every table succeeded.
    :raises UsageError: bad input (unknown scheme, no such table, target in use...).
    """
    ctx = context or default_context()
    spec = JobSpec(
        source=source,
        target=os.path.abspath(target),
        selection=TableSelection(schemas=_names(schemas), tables=_names(tables), exclude=_names(exclude)),
        sink_options=dict(sink_options or {}),
        source_options=dict(source_options or {}),
        rules=os.path.abspath(rules) if rules and ":" not in rules and os.path.exists(rules) else rules,
        validate=validate,
        parallel=parallel or ctx.settings.parallel,
        overwrite=overwrite,
        sign_key=(str(sign_key) if str(sign_key).startswith("@") else os.path.abspath(sign_key)) if sign_key else None,
        name=name,
        profile=profile,
        cursors=dict(cursors or {}),
        after=None if after is None else "last" if str(after).strip().lower() == "last" else os.path.abspath(after),
    )
    display = ProgressDisplay() if progress else None
    try:
        result = running.export(
            ctx, spec, actor=Actor.local("notebook"), password=password, on_progress=display, executor=executor
        )
    except BaseException:
        if display is not None:
            display.done()
        raise
    if display is not None:
        display.done(summary(result))
    return result


def load(
    directory: str | os.PathLike[str],
    target: str,
    *,
    tables: str | Sequence[str] | None = None,
    schema_map: Mapping[str, str] | None = None,
    if_exists: str = "fail",
    password: str | None = None,
    parallel: int | None = None,
    public_key: str | os.PathLike[str] | None = None,
    options: Mapping[str, Any] | None = None,
    name: str | None = None,
    progress: bool = False,
    context: Context | None = None,
) -> JobResult:
    """Load the export in ``directory`` into ``target`` (``postgresql://…``,
    ``duckdb:///file.duckdb``, ``vertica://…`` or ``@name``), now, in this process: every
    file verified first, each table published atomically (``adu load``).

    :param schema_map: source schema -> target schema.
    :param if_exists: ``fail`` (default), ``replace``, ``truncate`` or ``append``.
    :returns: the job's result; ``result.status`` says whether every table was loaded.
    :raises ExportMismatch: the export does not verify (nothing loaded).
    :raises UsageError: bad input (no export, a newer manifest, an unknown target...).
    """
    from adu_core.services import loads

    ctx = context or default_context()
    spec = loads.load_spec(
        ctx,
        directory,
        target,
        tables=_names(tables),
        schema_map=schema_map,
        if_exists=if_exists,
        parallel=parallel,
        public_key=public_key,
        options=options,
        name=name,
    )
    display = ProgressDisplay() if progress else None
    try:
        result = loads.load(ctx, spec, actor=Actor.local("notebook"), password=password, on_progress=display)
    except BaseException:
        if display is not None:
            display.done()
        raise
    if display is not None:
        display.done(summary(result))
    return result


def discover(
    source: str,
    *,
    password: str | None = None,
    views: bool = False,
    foreign: bool = False,
    schemas: str | Sequence[str] | None = None,
    context: Context | None = None,
) -> Discovery:
    """The schemas, tables and columns of ``source`` (``.tables``, ``.source``)."""
    options = {"include_views": views, "include_foreign": foreign}
    return discovery.discover(
        context or default_context(),
        source,
        actor=Actor.local("notebook"),
        password=password,
        options=options,
        schemas=_names(schemas),
    )


def jobs(*, status: str | None = None, limit: int = 20, context: Context | None = None) -> list[JobRow]:
    """Recorded jobs, newest first (CLI, web and notebook jobs alike)."""
    return jobs_service.list_jobs(context or default_context(), status=status, limit=limit)
