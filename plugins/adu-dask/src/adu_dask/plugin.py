"""The ``adu`` entry point of adu-dask: registers the ``dask`` executor."""

from __future__ import annotations

from adu_core.plugin import hookimpl
from adu_core.plugin.components import RegisterExecutor

from adu_dask.executor import DaskExecutor


@hookimpl
def adu_register_executors(register: RegisterExecutor) -> None:
    register(DaskExecutor)
