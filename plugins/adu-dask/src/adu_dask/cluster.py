"""The Dask clients of this process: one per scheduler address, and the LocalCluster.

A cluster is expensive to start (each worker process imports ADU, pyarrow and the
drivers: seconds) and cheap to reuse, so both are kept for the life of the process (an
``adu worker`` or ``adu serve`` runs job after job on them) and closed when it exits.
Each job keeps its own state on the workers under a key of its own
(:mod:`adu_dask.task`), released when the job ends.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import math
import threading
from typing import Any

from adu_core.errors import UsageError

from adu_dask.settings import DaskSettings

log = logging.getLogger("adu.dask")

_lock = threading.Lock()
_clients: dict[Any, Any] = {}  # key -> distributed.Client
_clusters: dict[Any, Any] = {}  # key -> distributed.LocalCluster


def _alive(client: Any) -> bool:
    return bool(client.status == "running")


def client_for(settings: DaskSettings, parallel: int) -> Any:
    """A connected ``distributed.Client``: to ``settings.scheduler``, or to this process's
    LocalCluster (started now if needed, ``settings.workers`` or ``parallel`` workers).

    :raises UsageError: the scheduler cannot be reached, or the cluster cannot start.
    """
    from distributed import Client

    if settings.scheduler:
        key: Any = ("scheduler", settings.scheduler)
    else:
        workers = settings.workers or max(1, parallel)
        if settings.connections:  # never more workers than connections: each holds at least one unit
            workers = min(workers, settings.connections)
        key = ("local", workers, settings.threads, settings.resource, settings.connections)
    with _lock:
        client = _clients.get(key)
        if client is not None and _alive(client):
            return client
        _drop(key)
        try:
            if settings.scheduler:
                client = Client(settings.scheduler, timeout=settings.timeout, set_as_default=False)  # type: ignore[no-untyped-call]
            else:
                cluster = _local_cluster(settings, workers)
                _clusters[key] = cluster
                client = Client(cluster, timeout=settings.timeout, set_as_default=False)  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as exc:
            where = settings.scheduler or "a LocalCluster"
            raise UsageError(f"cannot reach the Dask scheduler at {where}: {exc}") from None
        _clients[key] = client
        return client


#: Dask settings of the LocalCluster: no statistical profiler (it samples every worker
#: thread every 10 ms), and its housekeeping (event loop health, system and memory
#: monitors) at a slower pace: CPU that each short partition would otherwise pay for
#: nothing ADU shows (measured: bench/dask_export.py). A cluster of your own is
#: configured by its own Dask configuration.
LOCAL_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "500ms",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.admin.system-monitor.disk": False,
    "distributed.worker.memory.monitor-interval": "1s",
}


def _local_cluster(settings: DaskSettings, workers: int) -> Any:
    import dask

    resources = None
    if settings.resource:
        units = settings.connections or settings.threads * workers
        resources = {settings.resource: max(1, math.floor(units / workers))}
    log.info("starting a Dask LocalCluster: %d worker process(es), %d thread(s) each", workers, settings.threads)
    with dask.config.set(LOCAL_CONFIG):  # the worker processes inherit this configuration
        return _start_local(settings, workers, resources)


def _start_local(settings: DaskSettings, workers: int, resources: dict[str, int] | None) -> Any:
    from distributed import LocalCluster

    return LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers,
        threads_per_worker=settings.threads,
        processes=True,
        dashboard_address="127.0.0.1:0",  # its HTTP routes on loopback, on a free port (no fixed 8787)
        scheduler_kwargs={"dashboard": False},
        host="127.0.0.1",
        resources=resources,
        silence_logs=logging.WARNING,
    )


def _drop(key: Any) -> None:
    client = _clients.pop(key, None)
    cluster = _clusters.pop(key, None)
    if client is not None:
        with contextlib.suppress(Exception):
            client.close()
    if cluster is not None:
        with contextlib.suppress(Exception):
            cluster.close()


def close_all() -> None:
    """Close every client and LocalCluster of this process (at exit; tests)."""
    with _lock:
        for key in list(_clients) + list(_clusters):
            _drop(key)


atexit.register(close_all)
