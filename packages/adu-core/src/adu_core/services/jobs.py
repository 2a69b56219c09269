"""Jobs: submit, list, show, cancel and retry, with the audit event of each change.

Whoever asks (the CLI, a web page, the API, a notebook), a change records the same event
in the job's events, naming the :class:`~adu_core.services.context.Actor`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import attrs

from adu_core.errors import Conflict, NotFound, UsageError
from adu_core.models import JobSpec, JobStatus
from adu_core.secrets import remember_secret
from adu_core.services import policy
from adu_core.services.context import Actor, Context
from adu_core.store import EventRow, ExportLink, JobRow, PartitionRow, TableRow

log = logging.getLogger("adu.services")

__all__ = [
    "EventRow",
    "ExportLink",
    "JobRow",
    "TableRow",
    "cancel",
    "chain_link",
    "count",
    "events",
    "get",
    "list_jobs",
    "partitions",
    "retry",
    "submit",
    "tables",
]


def audit(ctx: Context, job_id: str, action: str, message: str, actor: Actor, *, level: str = "INFO") -> None:
    """Record that ``actor`` did ``action`` to the job: an event in the job's events
    (``data``: action, by, via) and a line in the service log."""
    ctx.store.add_event(
        job_id, level, f"{message} by {actor}", data={"action": action, "by": actor.name, "via": actor.via}
    )
    log.info("%s %s by %s", action, job_id, actor, extra={"job_id": job_id, "user": actor.name})


def submit(ctx: Context, spec: JobSpec, *, actor: Actor, password: str | None = None) -> str:
    """Record ``spec`` as a queued job (a worker runs it) and return its id.

    For a remote actor the web policy applies first (:func:`policy.check_remote_spec`);
    then the source and sink options are checked against the plugins' option schemas
    and typed. ``password`` is encrypted at rest until the job ends; a password inside
    the source URL is never stored.
    """
    from adu_core.services.plugins import check_sink_options, check_source_options

    if spec.is_load:
        from adu_core.services.loads import check_load_spec

        if actor.remote:
            spec, password = policy.check_remote_load(ctx.settings, spec, password)
        spec = check_load_spec(ctx, spec)
        remember_secret(password)
        job_id = ctx.store.create_job(spec, created_by=actor.name, password=password)
        audit(ctx, job_id, "submit", "load job submitted", actor)
        return job_id
    if actor.remote:
        spec, password = policy.check_remote_spec(ctx.settings, spec, password)
        try:
            is_admin = ctx.store.accounts.get(actor.name).role == "admin"
        except NotFound:
            is_admin = False
        policy.check_overwrite(ctx.store, spec, actor.name, is_admin)
    spec = attrs.evolve(
        spec,
        source_options=check_source_options(
            spec.source, spec.source_options, connections_file=ctx.settings.connections_file
        ),
        sink_options=check_sink_options(spec.sink, spec.sink_options),
    )
    remember_secret(password)
    job_id = ctx.store.create_job(spec, created_by=actor.name, password=password)
    audit(ctx, job_id, "submit", "job submitted", actor)
    return job_id


def chain_link(ctx: Context, job_id: str) -> ExportLink | None:
    """Where the export job ``job_id`` stands in its chain of repeated transfers (its
    manifest's SHA-256, the one it continues, its position: 0 for a full export), and
    its watermarks; None when it recorded none (no cursor column)."""
    return ctx.store.export_link(job_id)


def get(ctx: Context, job_id: str, *, exact: bool = False) -> JobRow:
    """The job ``job_id`` (a unique prefix of 4+ characters is enough unless ``exact``).

    :raises NotFound: no such job.
    """
    job = ctx.store.get_job(job_id)
    if exact and job.id != job_id:
        raise NotFound(f"no job {job_id!r}")
    return job


def list_jobs(
    ctx: Context, *, status: str | Sequence[str] | None = None, limit: int = 50, offset: int = 0
) -> list[JobRow]:
    """Jobs, newest first."""
    return ctx.store.list_jobs(status=status, limit=limit, offset=offset)


def count(ctx: Context, *, status: str | Sequence[str] | None = None) -> int:
    return ctx.store.count_jobs(status=status)


def tables(ctx: Context, job_id: str) -> list[TableRow]:
    """The job's tables with their status, rows, errors and validation."""
    return ctx.store.list_tables(job_id)


def partitions(ctx: Context, job_id: str) -> list[PartitionRow]:
    return ctx.store.list_partitions(job_id)


def workers_by_table(ctx: Context, job_id: str) -> dict[str, list[tuple[str, int]]]:
    """Where each table's partitions ran: ``schema.table`` -> ``[(worker, partitions)]``,
    most partitions first. A worker is ``host:pid`` for the built-in executors and the
    worker's address (``tcp://10.0.0.5:40331``) for a cluster; partitions not run yet are
    left out."""
    counts: dict[str, dict[str, int]] = {}
    for p in ctx.store.list_partitions(job_id):
        if p.worker:
            per = counts.setdefault(p.table, {})
            per[p.worker] = per.get(p.worker, 0) + 1
    return {t: sorted(per.items(), key=lambda kv: (-kv[1], kv[0])) for t, per in counts.items()}


def events(ctx: Context, job_id: str, *, limit: int = 200) -> list[EventRow]:
    """The job's recorded events (audit events included), oldest first."""
    return ctx.store.list_events(job_id, limit=limit)


def cancel(ctx: Context, job_id: str, *, actor: Actor) -> JobRow:
    """Ask the job to stop (a queued job is cancelled at once) and record who asked.

    :raises NotFound: no such job.
    :raises Conflict: the job has already finished.
    """
    job = get(ctx, job_id)
    try:
        job = ctx.store.request_cancel(job.id)
    except NotFound:
        raise
    except UsageError as exc:
        raise Conflict(str(exc)) from None
    audit(ctx, job.id, "cancel", "cancel requested", actor, level="WARNING")
    return job


def retry(ctx: Context, job_id: str, *, actor: Actor, password: str | None = None, overwrite: bool = False) -> JobRow:
    """Queue a finished job again to complete its export, and record who asked: its failed
    (or never finished) tables run again, the tables it published are checked and kept,
    and the manifest describes them all (a load: the tables it loaded are checked on the
    target and kept, the others loaded). ``overwrite``: export every table again instead.
    ``password`` is stored encrypted for the worker that runs it; to run the retry in this
    process instead, pass the password to :func:`adu_core.services.running.run_here`, not here.

    :raises NotFound: no such job.
    :raises Conflict: the job is still queued or running, or it succeeded (and not ``overwrite``).
    """
    job = get(ctx, job_id)
    if job.spec.is_load and overwrite:
        raise Conflict(f"job {job.id} is a load: --overwrite is for exports; `adu load --if-exists replace` reloads")
    remember_secret(password)
    try:
        job = ctx.store.retry_job(job.id, password=password, overwrite=overwrite)
    except NotFound:
        raise
    except UsageError as exc:
        raise Conflict(str(exc)) from None
    what = "all tables" if not job.spec.retry else ", ".join(job.spec.retry_tables) or "the manifest"
    audit(ctx, job.id, "retry", f"retry of {what} requested", actor)
    return job


def is_retryable(job: JobRow) -> bool:
    """Whether :func:`retry` would accept the job (a finished export or load that did not
    succeed; a load's retry keeps the tables it loaded and loads the others)."""
    return job.status.finished and job.status != JobStatus.SUCCEEDED


def store_answers(ctx: Context) -> bool:
    """Whether the job store answers one query now (no retries: health checks)."""
    from adu_core.errors import StoreUnavailable

    try:
        ctx.store.ping()
    except StoreUnavailable:
        return False
    return True
