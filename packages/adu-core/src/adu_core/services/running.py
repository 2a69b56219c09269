"""Running a job in this process: ``adu export``, ``adu demo``, ``adu jobs retry`` and
notebooks all go through :func:`run_here` (queued jobs are run by workers instead,
:mod:`adu_core.services.workers`)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from adu_core.errors import Conflict
from adu_core.models import JobResult, JobSpec
from adu_core.secrets import remember_secret, url_password
from adu_core.services import jobs
from adu_core.services.context import Actor, Context

if TYPE_CHECKING:
    from adu_core.engine import OpenedSource, Progress


def run_here(
    ctx: Context,
    job_id: str,
    *,
    password: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    executor: str | None = None,
    opened: OpenedSource | None = None,
) -> JobResult:
    """Claim the queued job ``job_id`` for this process and run it to its end.

    :param password: the source password, kept in memory only (a stored one is used
        when this is None).
    :param on_progress: called with a :class:`~adu_core.engine.Progress` about once a second.
    :param executor: ``thread``, ``process`` or ``auto`` (default: ``ADU_EXECUTOR``).
    :param opened: the job's source, opened before the job was recorded (see :func:`export`).
    :raises Conflict: the job is no longer queued (a worker claimed it first, or it was
        cancelled): it is not run twice.
    """
    from adu_core.engine import run_job
    from adu_core.store import worker_identity

    worker_id = worker_identity()
    # a foreground claim: if this process dies, the job becomes stale (with `adu jobs
    # retry` as its next step) instead of being run by a worker
    if ctx.store.claim_job(worker_id, job_id=job_id, lease_seconds=ctx.settings.stale_seconds, foreground=True) is None:
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
        opened=opened,
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

    The job store opens (a new one is created: its fsyncs) in a thread while this one
    imports the engine (pyarrow) and the source's connections start opening in the
    background: the job uses them when it opens that source, as it would have.

    :raises UsageError: bad input found while planning (the job is recorded failed).
    """
    password = password or url_password(spec.source)
    remember_secret(password)
    failed: list[BaseException] = []
    store_opening = threading.Thread(target=_open_store, args=(ctx, failed), name="adu-store-open", daemon=True)
    store_opening.start()
    opened = _open_early(ctx, spec, password, executor)
    try:
        store_opening.join()
        if failed:  # as the first use of the store would have (not tried twice through an outage)
            raise failed[0]
        job_id = jobs.submit(ctx, spec, actor=actor)
        return run_here(ctx, job_id, password=password, on_progress=on_progress, executor=executor, opened=opened)
    finally:
        if opened is not None:  # the job closed it when it used it (closing twice is harmless)
            with contextlib.suppress(Exception):
                opened.source.close()


def _open_store(ctx: Context, failed: list[BaseException]) -> None:
    """``ctx.store`` opened (and created, when new); what it raised is put in ``failed``."""
    try:
        ctx.store  # noqa: B018 - opening it is the point
    except BaseException as exc:  # noqa: BLE001 - raised by the caller's thread
        failed.append(exc)


def _open_early(ctx: Context, spec: JobSpec, password: str | None, executor: str | None) -> OpenedSource | None:
    """The export's source opened now (:func:`~adu_core.engine.open_job_source`) with the
    options the job will have, or None: a load, or anything wrong (reported by the job, in
    its turn, as it always was)."""
    if spec.is_load or spec.is_retry:
        return None
    try:
        from adu_core.engine import open_job_source
        from adu_core.services.plugins import check_sink_options, check_source_options

        # the options as the job will have them; bad ones are bad input, reported at once
        # by the job's submission (never after waiting for a connection)
        check_sink_options(spec.sink, spec.sink_options)
        checked = attrs.evolve(
            spec,
            source_options=check_source_options(
                spec.source, spec.source_options, connections_file=ctx.settings.connections_file
            ),
        )
        return open_job_source(
            checked, password, settings=ctx.settings, plugins=ctx.plugins, executor=executor or ctx.settings.executor
        )
    except Exception:  # noqa: BLE001 - the job finds the same problem and reports it
        return None
