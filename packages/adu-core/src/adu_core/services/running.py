"""Running a job in this process: ``adu export``, ``adu demo``, ``adu jobs retry`` and
notebooks all go through :func:`run_here` (queued jobs are run by workers instead,
:mod:`adu_core.services.workers`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from adu_core.errors import Conflict
from adu_core.models import JobResult, JobSpec
from adu_core.secrets import remember_secret, url_password
from adu_core.services import jobs
from adu_core.services.context import Actor, Context

if TYPE_CHECKING:
    from adu_core.engine import Progress


def run_here(
    ctx: Context,
    job_id: str,
    *,
    password: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    executor: str | None = None,
) -> JobResult:
    """Claim the queued job ``job_id`` for this process and run it to its end.

    :param password: the source password, kept in memory only (a stored one is used
        when this is None).
    :param on_progress: called with a :class:`~adu_core.engine.Progress` about once a second.
    :param executor: ``thread``, ``process`` or ``auto`` (default: ``ADU_EXECUTOR``).
    :raises Conflict: the job is no longer queued (a worker claimed it first, or it was
        cancelled): it is not run twice.
    """
    from adu_core.engine import run_job
    from adu_core.store import worker_identity

    worker_id = worker_identity()
    if ctx.store.claim_job(worker_id, job_id=job_id) is None:
        job = ctx.store.get_job(job_id)
        raise Conflict(f"job {job.id} cannot start here: it is {job.status.value} (another worker may have it)")
    return run_job(
        ctx.store,
        job_id,
        password=password,
        settings=ctx.settings,
        plugins=ctx.plugins,
        on_progress=on_progress,
        executor=executor,
        mp_start=ctx.mp_start,
        worker_id=worker_id,
    )


def export(
    ctx: Context,
    spec: JobSpec,
    *,
    actor: Actor,
    password: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    executor: str | None = None,
) -> JobResult:
    """Record ``spec`` as a job and run it here, now. The password (given, or inside the
    source URL) stays in this process: the store keeps the URL without it and no secret.

    :raises UsageError: bad input found while planning (the job is recorded failed).
    """
    password = password or url_password(spec.source)
    remember_secret(password)
    job_id = jobs.submit(ctx, spec, actor=actor)
    return run_here(ctx, job_id, password=password, on_progress=on_progress, executor=executor)
