"""What every service call needs: :class:`Context` (settings, store, plugins) and
:class:`Actor` (who asks, and through which frontend)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import attrs

from adu_core import config as config_mod

if TYPE_CHECKING:
    from adu_core.plugin.manager import Plugins
    from adu_core.store import Store

#: the frontends an actor comes through; ``web`` and ``api`` are remote (a signed-in
#: account on the server), the others run as the local user
VIAS = ("cli", "web", "api", "notebook")


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
        self._owns_store = store is None
        self._plugins = plugins
        self.fork_safe = fork_safe
        self._lock = threading.Lock()

    @property
    def store(self) -> Store:
        """The job store (opened and migrated on first use)."""
        if self._store is None:
            with self._lock:
                if self._store is None:
                    from adu_core.store import Store

                    self._store = Store.from_settings(self.settings)
        return self._store

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
