"""Workers: processes and threads that claim queued jobs from the store and run them
(``adu worker``, the embedded workers of ``adu serve``)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from adu_core.services.context import Context

if TYPE_CHECKING:
    from adu_core.store import WorkerRow


def run_one(ctx: Context) -> bool:
    """Run at most one queued job in this process; False when none was queued."""
    from adu_core.worker import Worker

    return Worker(ctx.store, ctx.settings, plugins=ctx.plugins).run_one()


def start(ctx: Context, count: int, stop: threading.Event) -> list[threading.Thread]:
    """Start ``count`` worker threads that run queued jobs until ``stop`` is set."""
    from adu_core.worker import start_embedded_workers

    return start_embedded_workers(ctx.store, ctx.settings, count, stop)


def list_workers(ctx: Context) -> list[WorkerRow]:
    """The registered workers: id, host, pid, started and last heard (UNIX seconds)."""
    return ctx.store.list_workers()
