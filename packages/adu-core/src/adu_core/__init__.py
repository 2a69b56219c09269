"""ADU core: the models, plugin system, job engine and store behind every frontend.

In a notebook (or any script)::

    import adu_core as adu

    result = adu.export("postgresql://me@db/prod", "/exports/today", tables=["sales.*"], progress=True)
    print(result.status, result.rows)
    adu.jobs()                                  # recorded with CLI and web jobs
    adu.discover("postgresql://me@db/prod").tables
    adu.verify("/exports/today").ok             # on the far side
    tables = adu.open_export("/exports/today")  # each table, after verifying the export
    adu.load("/exports/today", "postgresql://me@dwh/analytics")  # verified, then loaded

Everything here is imported on first use: ``import adu_core`` loads neither pyarrow nor
the job store (which runs on sqlite3 or psycopg2; SQLAlchemy only to upgrade an old store).
"""

from __future__ import annotations

import importlib
import logging as _logging
import os
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    __version__: str
    from adu_core.models import (
        ColumnInfo,
        JobResult,
        JobSpec,
        JobStatus,
        Partition,
        SourceInfo,
        TableInfo,
        TableResult,
        TableSelection,
        TableStatus,
    )
    from adu_core.services.context import Context
    from adu_core.services.exports import open_export
    from adu_core.services.notebook import discover, export, jobs, load

#: public name -> (module, attribute), imported when first used
_LAZY: dict[str, tuple[str, str]] = {
    **{
        name: ("adu_core.models", name)
        for name in (
            "ColumnInfo",
            "JobResult",
            "JobSpec",
            "JobStatus",
            "Partition",
            "SourceInfo",
            "TableInfo",
            "TableResult",
            "TableSelection",
            "TableStatus",
        )
    },
    "Context": ("adu_core.services.context", "Context"),
    "export": ("adu_core.services.notebook", "export"),
    "discover": ("adu_core.services.notebook", "discover"),
    "jobs": ("adu_core.services.notebook", "jobs"),
    "load": ("adu_core.services.notebook", "load"),
    "open_export": ("adu_core.services.exports", "open_export"),
}

__all__ = [
    "ColumnInfo",
    "Context",
    "JobResult",
    "JobSpec",
    "JobStatus",
    "Partition",
    "SourceInfo",
    "TableInfo",
    "TableResult",
    "TableSelection",
    "TableStatus",
    "__version__",
    "discover",
    "export",
    "jobs",
    "load",
    "open_export",
    "verify",
]


class _Verify:
    """``adu_core.verify(path, public_key=None)``: check an export against its manifest
    (:func:`adu_core.services.exports.verify_export`).

    ``adu_core.verify`` is also a submodule (the verifier itself); its names stay
    reachable through this object (``adu_core.verify.MANIFEST_NAME``), and
    ``from adu_core.verify import ...`` works as usual.
    """

    def __call__(self, path: str | os.PathLike[str], public_key: str | os.PathLike[str] | None = None) -> Any:
        from adu_core.services.exports import verify_export

        return verify_export(path, public_key)

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module("adu_core.verify"), name)

    def __repr__(self) -> str:
        return "<function adu_core.verify(path, public_key=None)>"


class _Package(types.ModuleType):
    """This package, whose ``verify`` stays the function when the submodule of the same
    name is imported (the import system would otherwise set the module in its place)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "verify" and isinstance(value, types.ModuleType):
            return  # still in sys.modules, and reachable through the function's attributes
        super().__setattr__(name, value)


verify = _Verify()
sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    if name == "__version__":  # read once, without importlib.metadata (its import costs ~25 ms)
        from adu_core.plugin.distributions import version

        value: Any = version("adu-core") or "0.0.0"  # 0.0.0: a source tree, not installed
        globals()[name] = value
        return value
    entry = _LAZY.get(name)
    if entry is None:
        raise AttributeError(f"module 'adu_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(entry[0]), entry[1])
    globals()[name] = value  # next time without this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


# a library stays quiet until the application configures logging (never Python's
# last-resort stderr handler, which would print tracebacks on a user's terminal)
_logging.getLogger("adu").addHandler(_logging.NullHandler())
