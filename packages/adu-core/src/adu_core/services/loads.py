"""Loads (``adu load``): an export directory into a database, one place for every frontend.

The CLI (``adu load DIR TARGET``), the web's "Load into…" form, ``POST /api/loads`` and
notebooks (``adu.load(DIR, TARGET)``) build the job with :func:`load_spec` and run it here
(:func:`load`) or queue it for a worker (:func:`submit_load`)::

    import adu_core as adu
    adu.load("/media/usb/prod-2026-12-02", "postgresql://me@dwh/analytics", if_exists="replace")

A load is a job of kind ``load``: the same store, logs, progress and pages as an export.
Its target's password (in the URL, or given apart) is never stored: a load run here keeps
it in memory; a queued one stores it encrypted until the job ends, as an export's source.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from adu_core.errors import UsageError
from adu_core.models import JobResult, JobSpec, TableSelection
from adu_core.plugin.components import IF_EXISTS
from adu_core.secrets import remember_secret, url_password
from adu_core.services.context import Actor, Context

if TYPE_CHECKING:
    from adu_core.engine import Progress

__all__ = ["IF_EXISTS", "load", "load_spec", "parse_schema_map", "submit_load", "target_sink"]


def parse_schema_map(items: Sequence[str] | Mapping[str, str] | None) -> dict[str, str]:
    """``SRC=DST`` items (``--schema-map``) as a mapping; one line for a bad one."""
    if items is None:
        return {}
    if isinstance(items, Mapping):
        pairs = list(items.items())
    else:
        pairs = []
        for item in items:
            src, sep, dst = str(item).partition("=")
            if not sep:
                raise UsageError(f"--schema-map {item!r}: expected SRC=DST")
            pairs.append((src, dst))
    out: dict[str, str] = {}
    for src, dst in pairs:
        src, dst = str(src).strip(), str(dst).strip()
        if not src or not dst or "\x00" in src + dst:
            raise UsageError(f"--schema-map {src}={dst}: both schema names are needed")
        if src in out:
            raise UsageError(f"--schema-map maps {src!r} twice")
        out[src] = dst
    return out


def target_sink(ctx: Context, target: str) -> str:
    """The name of the load sink that writes to ``target`` (a URL or ``@name``).

    :raises UsageError: an unknown named connection, or no load sink for its scheme.
    """
    url = target
    if target.startswith("@"):
        from adu_core.connections import load_connections

        conn = load_connections(ctx.settings.connections_file).get(target[1:])
        if conn is None:
            raise UsageError(f"unknown named connection {target!r}")
        url = conn.url
    return ctx.plugins.load_sink_class(url).name


def load_spec(
    ctx: Context,
    directory: str | os.PathLike[str],
    target: str,
    *,
    tables: Sequence[str] = (),
    schema_map: Sequence[str] | Mapping[str, str] | None = None,
    if_exists: str = "fail",
    parallel: int | None = None,
    public_key: str | os.PathLike[str] | None = None,
    options: Mapping[str, Any] | None = None,
    name: str | None = None,
) -> JobSpec:
    """The job spec of a load (checked: one line for bad input).

    :param directory: the export directory (its ``manifest.json`` is read at run time).
    :param target: ``postgresql://…``, ``duckdb:///file.duckdb``, ``vertica://…`` or ``@name``.
    :param tables: ``schema.table`` names or globs (default: every table of the export).
    :param schema_map: ``SRC=DST`` items or a mapping: tables of SRC go to DST.
    :param if_exists: ``fail`` (default), ``replace``, ``truncate`` or ``append``.
    :param public_key: the Ed25519 public key file the signature must check against.
    :param options: more options of the load sink (``adu plugins`` lists them).
    """
    if if_exists not in IF_EXISTS:
        raise UsageError(f"--if-exists must be one of: {', '.join(IF_EXISTS)}")
    target = (target or "").strip()
    if not target:
        raise UsageError("give a target: a database URL or a named connection (@name)")
    sink = target_sink(ctx, target)
    sink_options: dict[str, Any] = dict(options or {})
    sink_options["if_exists"] = if_exists
    mapping = parse_schema_map(schema_map)
    if mapping:
        sink_options["schema_map"] = mapping
    source_options: dict[str, Any] = {}
    if public_key:
        key = Path(public_key).expanduser()
        if not key.is_file():
            raise UsageError(f"--public-key {os.fspath(public_key)}: no such file")
        source_options["public_key"] = str(key.resolve())
    return JobSpec(
        source=os.path.abspath(os.fspath(directory)),
        target=target,
        selection=TableSelection(tables=tuple(tables)),
        sink=sink,
        sink_options=sink_options,
        source_options=source_options,
        validate=False,
        parallel=parallel or ctx.settings.parallel,
        name=name,
        kind="load",
    )


def check_load_spec(ctx: Context, spec: JobSpec) -> JobSpec:
    """``spec``'s sink options checked against its load sink (typed values)."""
    cls = ctx.plugins.registry.load_sinks.get(spec.sink)
    if cls is None:
        raise UsageError(f"unknown load sink {spec.sink!r}")
    return attrs.evolve(spec, sink_options=cls.check_options(spec.sink_options))


def submit_load(ctx: Context, spec: JobSpec, *, actor: Actor, password: str | None = None) -> str:
    """Queue the load for a worker; its id. The target's password (given, or in the URL)
    is stored encrypted until the job ends; a named connection keeps its own."""
    from adu_core.services import jobs

    return jobs.submit(ctx, spec, actor=actor, password=password or url_password(spec.target))


def load(
    ctx: Context,
    spec: JobSpec,
    *,
    actor: Actor,
    password: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    executor: str | None = None,
) -> JobResult:
    """Record the load ``spec`` as a job and run it here, now; the target's password stays
    in this process (never stored).

    :raises UsageError: bad input (recorded failed when found after the job started).
    :raises ExportMismatch: the export does not verify (the job is recorded failed).
    """
    from adu_core.services import jobs, running

    if not spec.is_load:
        raise UsageError("not a load job spec")
    password = password or url_password(spec.target)
    remember_secret(password)
    job_id = jobs.submit(ctx, spec, actor=actor)
    return running.run_here(ctx, job_id, password=password, on_progress=on_progress, executor=executor)
