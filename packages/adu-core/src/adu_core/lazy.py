"""Modules imported on first use.

Plugins are all loaded when ADU starts, and pool workers are forked from that process:
a heavy library a job does not need (polars when nothing is validated, DuckDB when nothing
reads DuckDB) would cost start-up time and sit in the memory of every process. A plugin
writes ``pl = lazy_module("polars")`` (with the real import under ``TYPE_CHECKING`` for
the type checker) and the library is imported the first time an attribute is used.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule:
    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        state = "loaded" if self._module is not None else "not loaded yet"
        return f"<lazy module {self._name!r}, {state}>"


def lazy_module(name: str) -> Any:
    """A stand-in for module ``name`` that imports it on first attribute access."""
    return _LazyModule(name)
