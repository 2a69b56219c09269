"""``adu serve``: gunicorn in-process (one web process, threads) plus embedded workers.

The embedded workers start in the web process after gunicorn forks it and stop before
it exits; a job still running then is finished first (up to gunicorn's graceful
timeout). Several ``adu worker`` processes can run beside it against the same store.
"""

from __future__ import annotations

import logging
import threading
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
            "worker_class": "gthread",
            "threads": threads,
            "timeout": 60,
            "graceful_timeout": 30,
            "accesslog": "-",
            "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(L)ss',
            "errorlog": "-",
            "proc_name": "adu-serve",
            "post_worker_init": self._start_workers,
            "worker_exit": self._stop_workers,
            "control_socket_disable": True,  # gunicorn >= 24: no control socket in $HOME
        }
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> Any:
        from adu_web.app import create_app

        return create_app(self.settings)

    def _start_workers(self, _worker: Any) -> None:
        if self.embedded <= 0:
            return
        from adu_core.services import workers
        from adu_core.services.context import Context

        self._threads = workers.start(Context(self.settings), self.embedded, self._stop)
        log.info("%d embedded worker(s) started", self.embedded)

    def _stop_workers(self, _server: Any, _worker: Any) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=25)
