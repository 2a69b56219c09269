"""Workers: processes and threads that claim queued jobs from the store and run them
(``adu worker``, the embedded workers of ``adu serve``)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from adu_core.services.context import Context

if TYPE_CHECKING:
    from adu_core.store import WorkerRow
    from adu_core.worker import WorkerPool


def run_one(ctx: Context) -> bool:
    """Run at most one queued job in this process; False when none was queued."""
    from adu_core.worker import Worker

    return Worker(ctx.store, ctx.settings, plugins=ctx.plugins).run_one()


def start(ctx: Context, count: int, stop: threading.Event) -> list[threading.Thread]:
    """Start ``count`` worker threads that run queued jobs until ``stop`` is set."""
    from adu_core.worker import start_embedded_workers

    return start_embedded_workers(ctx.store, ctx.settings, count, stop)


def pool(ctx: Context, count: int, *, name: str = "adu-worker") -> WorkerPool:
    """``count`` worker threads in this process (not started), restarted when one dies
    (:meth:`WorkerPool.supervise`), stopped gracefully by :meth:`WorkerPool.close`: a job
    still running after the grace period goes back to the queue."""
    from adu_core.worker import WorkerPool

    return WorkerPool(ctx.store, ctx.settings, count, plugins=ctx.plugins, mp_start=ctx.mp_start, name=name)


def list_workers(ctx: Context) -> list[WorkerRow]:
    """The registered workers: id, host, pid, started and last heard (UNIX seconds)."""
    return ctx.store.list_workers()


def live_count(ctx: Context) -> int:
    """Workers (``adu worker`` processes, embedded ones) heard from within a lease
    (``ADU_STALE_SECONDS``), on any host sharing the store."""
    return ctx.store.count_live_workers(ctx.settings.stale_seconds)


def start_embedded(ctx: Context, count: int) -> WorkerPool:
    """Start ``count`` worker threads in this process (``adu serve``) and a supervisor that
    restarts one that dies; the pool is kept on ``ctx`` for :func:`embedded_health`."""
    p = pool(ctx, count, name="adu-embedded").start()
    ctx.embedded = p

    def supervise() -> None:
        while not p.stop.wait(1.0):
            p.supervise()

    threading.Thread(target=supervise, name="adu-embedded-supervisor", daemon=True).start()
    return p


def embedded_health(ctx: Context) -> tuple[int, int] | None:
    """``(alive, expected)`` worker threads of this process's embedded pool; None when it
    has none (a web process beside separate ``adu worker`` processes)."""
    p = ctx.embedded
    if p is None:
        return None
    return p.alive(), p.count


def stop_embedded(ctx: Context) -> bool:
    """Stop the embedded pool: a running job gets ``ADU_SHUTDOWN_SECONDS`` to finish, then
    goes back to the queue. True when every worker thread ended."""
    p = ctx.embedded
    if p is None:
        return True
    return p.close(ctx.settings.shutdown_seconds)
