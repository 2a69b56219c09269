"""pytest plugin for ADU and for authors of ADU plugins.

Loaded through the ``pytest11`` entry point of ``adu-core`` (or ``-p adu_core.testing``).
Fixtures:

* ``adu_plugins``: a fresh plugin manager, installed as the process-wide one for the test.
* ``register_plugin``: ``register_plugin(obj, name="x")`` registers a plugin for this test
  only; it is unregistered afterwards.
* ``adu_settings`` / ``adu_store``: a throwaway ``ADU_DATA_DIR`` with its settings and store.

Example::

    class Audit:
        seen = []
        @hookimpl
        def adu_job_finished(self, job_id, result):
            self.seen.append(result.status)

    def test_audit(register_plugin, adu_store):
        register_plugin(Audit(), name="audit")
        ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from adu_core import config as config_mod
from adu_core.plugin.manager import Plugins, get_plugins, set_plugins
from adu_core.store import Store


@pytest.fixture
def adu_plugins() -> Iterator[Plugins]:
    """A fresh :class:`Plugins` (built-ins and entry points loaded), process-wide for the test."""
    previous = get_plugins()
    fresh = Plugins()
    set_plugins(fresh)
    try:
        yield fresh
    finally:
        set_plugins(previous)


@pytest.fixture
def register_plugin(adu_plugins: Plugins) -> Iterator[Callable[..., Any]]:
    """Register plugins for one test; they are removed when the test ends."""
    names: list[str] = []

    def register(plugin: Any, name: str | None = None) -> Any:
        plugin_name = name or getattr(plugin, "__name__", None) or type(plugin).__name__.lower()
        adu_plugins.register(plugin, name=plugin_name)
        names.append(plugin_name)
        return plugin

    yield register
    for n in names:
        if adu_plugins.pm.get_plugin(n) is not None:
            adu_plugins.unregister(n)


@pytest.fixture
def adu_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> config_mod.Settings:
    """Settings of a throwaway data directory (also exported as ``ADU_DATA_DIR``)."""
    data = tmp_path / "adu-data"
    monkeypatch.setenv("ADU_DATA_DIR", str(data))
    monkeypatch.delenv("ADU_STORE_URL", raising=False)
    monkeypatch.setenv("ADU_ENV", "test")
    monkeypatch.setenv("ADU_SECRET_KEY", "test-secret-key-0123456789")
    return config_mod.load()


@pytest.fixture
def adu_store(adu_settings: config_mod.Settings) -> Iterator[Store]:
    """The job store of :func:`adu_settings`, migrated."""
    store = Store.from_settings(adu_settings)
    try:
        yield store
    finally:
        store.dispose()
