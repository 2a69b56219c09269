"""``adu serve``: gunicorn in-process (one web process, threads) plus embedded workers.

The embedded workers start in the web process after gunicorn forks it; a supervisor
restarts one that dies (``/healthz`` fails meanwhile). On SIGTERM they stop before the
process exits: a job still running gets ``ADU_SHUTDOWN_SECONDS`` to finish, then goes back
to the queue (never killed mid-table and left ``running``). Several ``adu worker``
processes can run beside it against the same store.
"""

from __future__ import annotations

import logging
from typing import Any

from adu_core import config
from gunicorn.app.base import BaseApplication

log = logging.getLogger("adu.web.serve")


class ServeApplication(BaseApplication):  # type: ignore[misc]
    """gunicorn running :func:`adu_web.create_app` with ``workers`` embedded workers."""

    def __init__(self, settings: config.Settings, *, host: str, port: int, workers: int, threads: int = 8) -> None:
        self.settings = settings
        self.embedded = workers
        self.options = {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": 1,
            # a deadline on reading each request: slow clients cannot hold every thread
            "worker_class": "adu_web.gworker.BoundedThreadWorker",
            "threads": threads,
            "timeout": 60,
            "keepalive": 2,
            "worker_connections": 200,
            "limit_request_line": 8190,
            "limit_request_fields": 60,
            "limit_request_field_size": 8190,
            # the embedded workers' grace, then time to stop a job and requeue it
            "graceful_timeout": int(settings.shutdown_seconds) + 30,
            "accesslog": "-",
            "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(L)ss',
            "errorlog": "-",
            "proc_name": "adu-serve",
            "post_worker_init": self._start_workers,
            "worker_exit": self._stop_workers,
            "control_socket_disable": True,  # gunicorn >= 24: no control socket in $HOME
        }
        self._context: Any = None
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> Any:
        from adu_web.app import create_app

        app = create_app(self.settings)
        self._context = app.extensions["adu"]  # the embedded workers share it (/healthz sees them)
        return app

    def _start_workers(self, _worker: Any) -> None:
        if self.embedded <= 0:
            return
        from adu_core.services import workers

        workers.start_embedded(self._context, self.embedded)
        log.info("%d embedded worker(s) started", self.embedded)

    def _stop_workers(self, _server: Any, _worker: Any) -> None:
        if self._context is None:
            return
        from adu_core.services import workers

        if not workers.stop_embedded(self._context):
            log.error("an embedded worker did not stop in time")
