"""The ``adu`` entry point of adu-dask: registers the ``dask`` executor.

Imported whenever plugins load (``adu --help`` included), so it imports nothing heavy: the
executor's module (the engine, pyarrow, distributed) is imported when the registry is first
asked for a component, as the built-in executors are (:mod:`adu_core.engine.builtin`).
"""

from __future__ import annotations

from adu_core.plugin import hookimpl
from adu_core.plugin.components import RegisterExecutor


@hookimpl
def adu_register_executors(register: RegisterExecutor) -> None:
    from adu_dask.executor import DaskExecutor

    register(DaskExecutor)
