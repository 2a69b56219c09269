"""The built-in executors, ``thread`` and ``process``, and how a job picks one.

This module is a plugin of its own (a built-in of :mod:`adu_core.plugin.manager`): it
registers both executors through the ``adu_register_executors`` hook, exactly as an
executor plugin would (see :class:`adu_core.plugin.components.Executor`).
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import queue
import signal
import sys
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from adu_core.engine.partition import (
    PartitionProgress,
    PartitionRuntime,
    PartitionTask,
    ThreadCaches,
    WorkerCaches,
    local_worker,
    run_partition,
)
from adu_core.logs import job_logging, job_thread
from adu_core.models import PartitionResult
from adu_core.plugin.components import CancelToken, Executor, ExecutorContext, Source
from adu_core.plugin.manager import Plugins, PluginSet, get_plugins
from adu_core.secrets import SecretScope, enter_scope, remember_secret


def choose_executor(kind: str, source: Source, workers: int, partitions: int, *, plugins: Plugins | None = None) -> str:
    """The name of the executor a job runs its partitions on.

    ``auto`` picks threads when the source reads outside the GIL
    (:attr:`Source.reads_release_gil`): decoding then runs on every core from one process,
    which starts nothing, pickles nothing and holds one copy of its libraries (measured on
    the 3M-row PostgreSQL export: 5% faster and a third less memory than a process pool).
    Otherwise a process pool, so Python-heavy decoding is not serialised by the GIL. A
    single partition runs in a thread (for ``auto`` and ``process``): there is nothing to
    run beside it. Any other registered executor is used as named.

    :raises UsageError: ``kind`` is neither ``auto`` nor a registered executor.
    """
    if kind != "auto":
        (plugins or get_plugins()).executor_class(kind)  # an unknown name is a UsageError
    if kind in ("auto", "process") and workers == 1 and partitions == 1:
        return "thread"
    if kind == "auto":
        return "thread" if source.reads_release_gil else "process"
    return kind


def _drain(messages: Any) -> list[PartitionProgress]:
    out: list[PartitionProgress] = []
    while True:
        try:
            out.append(messages.get_nowait())
        except (queue.Empty, EOFError, OSError):
            return out


class ThreadExecutor(Executor):
    """Partitions as threads of the process that runs the job, each thread with its own
    sources (one connection per thread) and the job's plugins as they are."""

    name = "thread"
    description = "partitions in threads of the job's process (sources that read outside the GIL)"

    def __init__(self, context: ExecutorContext) -> None:
        super().__init__(context)
        self._cancel = threading.Event()
        self._messages: queue.SimpleQueue[PartitionProgress] = queue.SimpleQueue()
        self._caches = ThreadCaches()
        self._worker = local_worker()
        self._pool = cf.ThreadPoolExecutor(max_workers=context.workers, thread_name_prefix="adu-part")

    def where(self) -> str:
        return "in threads"

    def submit(self, task: PartitionTask) -> cf.Future[PartitionResult]:
        return self._pool.submit(self._run, task)

    def _run(self, task: PartitionTask) -> PartitionResult:
        with job_thread(task.job_id):  # the thread's records go to the job's log
            runtime = PartitionRuntime(
                plugins=self.context.plugins,
                cancel=self._cancel,
                report=self._messages.put,
                caches=self._caches.get(),
                worker=self._worker,
            )
            return run_partition(task, runtime)

    def cancel(self) -> None:
        self._cancel.set()

    def progress(self) -> list[PartitionProgress]:
        return _drain(self._messages)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._caches.close()


class _PoolProcess:
    """The state of one pool process, set by :func:`_pool_init` for the job's life."""

    plugins: Plugins | None = None
    cancel: CancelToken | None = None
    messages: Any = None
    caches: WorkerCaches = WorkerCaches()
    worker: str = ""
    log_stack: ExitStack | None = None  # keeps the job log open for the process's life


#: ``prctl(2)`` option: the signal a process gets when its parent dies (Linux)
PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Make this pool process die when the process that started it dies (Linux
    ``PR_SET_PDEATHSIG``; the forkserver, when pools start from one, exits with the job's
    process). Without it a killed coordinator leaves its pool reading the source and then
    waiting forever, holding its connections. Its own Ctrl-C is ignored: the coordinator
    stops the partitions."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform != "linux":
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - no prctl
        return
    if parent > 0 and os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _pool_init(
    cancel: CancelToken,
    messages: Any,
    job_id: str,
    log_path: str | None,
    level: str,
    secrets: tuple[str, ...],
    plugin_set: PluginSet,
    parent: int = 0,
) -> None:
    """Pool initializer: die with the parent; the job's log file, its secrets, cancel flag,
    progress queue and plugins."""
    if parent:
        die_with_parent(parent)
    enter_scope(SecretScope(job_id))  # this process serves the one job
    remember_secret(*secrets)
    if log_path:
        stack = ExitStack()
        stack.enter_context(job_logging(Path(log_path), job_id, level, whole_process=True))
        _PoolProcess.log_stack = stack
    _PoolProcess.cancel = cancel
    _PoolProcess.messages = messages
    _PoolProcess.caches = WorkerCaches()
    _PoolProcess.worker = local_worker()
    _PoolProcess.plugins = plugin_set.build()  # the coordinator's plugins, not this process's own


def _run_in_pool(task: PartitionTask) -> PartitionResult:
    state = _PoolProcess
    if state.plugins is None or state.cancel is None:
        raise RuntimeError("a partition runs in a pool set up by the process executor")
    runtime = PartitionRuntime(
        plugins=state.plugins, cancel=state.cancel, report=state.messages.put, caches=state.caches, worker=state.worker
    )
    return run_partition(task, runtime)


class ProcessExecutor(Executor):
    """Partitions in a pool of processes of this host, for sources whose reads hold the GIL.

    Each pool process rebuilds the job's plugins from their picklable description, writes
    to the job's log and keeps its sources open between partitions.
    """

    name = "process"
    description = "partitions in a pool of processes of the job's host"

    def __init__(self, context: ExecutorContext) -> None:
        super().__init__(context)
        import multiprocessing  # the process pool only (a thread executor's job does without)

        ctx = multiprocessing.get_context(context.mp_start) if context.mp_start else multiprocessing.get_context()
        if ctx.get_start_method() == "forkserver":
            # the server imports the engine once; every pool process then forks from it
            ctx.set_forkserver_preload([__name__])
        self._cancel = ctx.Event()
        self._messages = ctx.Queue()
        args = (
            self._cancel,
            self._messages,
            context.job_id,
            context.log_path,
            context.log_level,
            context.secrets,
            context.plugins.portable(),
            0,  # the parent's pid, set below once the start method is known
        )
        # a pool process's parent: this process when it forks, the forkserver otherwise
        # (which exits when this process dies); spawn children cannot tell, no watch
        if ctx.get_start_method() == "fork":
            args = (*args[:-1], os.getpid())
        elif ctx.get_start_method() == "forkserver":
            args = (*args[:-1], -1)
        self._pool = cf.ProcessPoolExecutor(
            max_workers=context.workers, mp_context=ctx, initializer=_pool_init, initargs=args
        )

    def where(self) -> str:
        return "in a process pool"

    def submit(self, task: PartitionTask) -> cf.Future[PartitionResult]:
        return self._pool.submit(_run_in_pool, task)

    def cancel(self) -> None:
        self._cancel.set()

    def progress(self) -> list[PartitionProgress]:
        return _drain(self._messages)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._messages.close()
        self._messages.join_thread()
