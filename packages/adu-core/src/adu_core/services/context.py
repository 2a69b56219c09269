"""What every service call needs: :class:`Context` (settings, store, plugins) and
:class:`Actor` (who asks, and through which frontend)."""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Any

import attrs

from adu_core import config as config_mod

if TYPE_CHECKING:
    from adu_core.plugin.manager import Plugins
    from adu_core.reaper import Reaper
    from adu_core.store import Store
    from adu_core.worker import WorkerPool

#: the frontends an actor comes through; ``web`` and ``api`` are remote (a signed-in
#: account on the server), the others run as the local user
VIAS = ("cli", "web", "api", "notebook")


def before_exit() -> None:
    """What a command's process does before it leaves with ``os._exit`` (the ``adu``
    console script): the job store's PostgreSQL connections are closed; SQLite's are left
    (see :func:`adu_core.store.db.close_before_exit`)."""
    import sys

    if "adu_core.store.db" in sys.modules:  # no store was opened: nothing to close
        from adu_core.store.db import close_before_exit

        close_before_exit()


def local_user() -> str:
    """The operating-system user running this process."""
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no name for this uid (containers)
        import os

        return str(os.getuid())


@attrs.frozen
class Actor:
    """Who asks for a change, and through which frontend (recorded in audit events).

    :param name: a web account's name (``web``, ``api``) or the local user's.
    :param via: one of :data:`VIAS`.
    """

    name: str
    via: str = attrs.field(validator=attrs.validators.in_(VIAS))

    @classmethod
    def local(cls, via: str = "cli") -> Actor:
        """The user running this process (the CLI, a notebook)."""
        return cls(local_user(), via)

    @classmethod
    def account(cls, username: str, *, api: bool = False) -> Actor:
        """A signed-in web account, through the pages or the JSON API."""
        return cls(username, "api" if api else "web")

    @property
    def remote(self) -> bool:
        """A web account acting on the server: the web policy applies
        (:mod:`adu_core.services.policy`)."""
        return self.via in ("web", "api")

    def __str__(self) -> str:
        return f"{self.name} ({self.via})"


class Context:
    """Settings, the job store and the plugins, shared by the calls of one frontend.

    The store and the plugins are opened on first use (a command that needs neither
    pays for neither). A context is safe to share between threads.

    :param settings: default: read from the environment.
    :param store: an open store to use instead of opening one from ``settings``.
    :param plugins: a plugin manager; default: the process-wide one.
    :param fork_safe: this process has started no native thread pools yet (a fresh CLI
        process), so a job's process pool may ``fork`` (fast); otherwise pools start
        with ``forkserver`` (polars' and DuckDB's thread pools do not survive a fork).
    """

    def __init__(
        self,
        settings: config_mod.Settings | None = None,
        *,
        store: Store | None = None,
        plugins: Plugins | None = None,
        fork_safe: bool = False,
    ) -> None:
        self.settings = settings if settings is not None else config_mod.load()
        self._store = store
        self._reaper: Reaper | None = None
        #: the worker threads this process runs beside its frontend (``adu serve``), if any
        self.embedded: WorkerPool | None = None
        self._owns_store = store is None
        self._plugins = plugins
        self.fork_safe = fork_safe
        self._lock = threading.Lock()

    @property
    def store(self) -> Store:
        """The job store (opened and migrated on first use). Opening it takes back the
        jobs whose process died (expired leases, :mod:`adu_core.reaper`), as every ADU
        process does; long-lived ones also call :meth:`reap` from time to time."""
        if self._store is None:
            with self._lock:
                if self._store is None:
                    from adu_core.reaper import Reaper
                    from adu_core.store import Store

                    store = Store.from_settings(self.settings)
                    self._reaper = Reaper(store, self.settings, interval=self.settings.heartbeat_seconds)
                    self._store = store
                    self.reap()
        return self._store

    def reap(self) -> None:
        """Take back the jobs whose process died, at most once per ``ADU_HEARTBEAT_SECONDS``
        (cheap when none did: one indexed read). Never raises: an unreachable store is
        reaped when it answers again."""
        from adu_core.errors import StoreUnavailable

        if self._store is None:
            return  # opening the store reaps
        if self._reaper is None:
            from adu_core.reaper import Reaper

            self._reaper = Reaper(self._store, self.settings, interval=self.settings.heartbeat_seconds)
        with contextlib.suppress(StoreUnavailable):  # logged once by the store
            self._reaper.maybe_reap(plugins=self._plugins)

    @property
    def plugins(self) -> Plugins:
        """The plugin manager (the process-wide one unless given)."""
        if self._plugins is not None:
            return self._plugins
        from adu_core.plugin.manager import get_plugins

        return get_plugins()

    def open(self) -> Context:
        """Open (and migrate) the store now rather than on first use; returns self."""
        _ = self.store
        return self

    def with_settings(self, settings: config_mod.Settings) -> Context:
        """A context with other settings sharing this one's store and plugins."""
        return Context(settings, store=self.store, plugins=self._plugins, fork_safe=self.fork_safe)

    @property
    def mp_start(self) -> str:
        """How a job's process pool starts its processes (see ``fork_safe``)."""
        return "fork" if self.fork_safe else "forkserver"

    def close(self) -> None:
        """Release the store's connections (only a store this context opened)."""
        if self._store is not None and self._owns_store:
            self._store.dispose()
            self._store = None

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
