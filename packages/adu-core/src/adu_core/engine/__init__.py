"""The job engine: plan (discover, select, partition) and run.

:func:`run_job` runs one claimed job of the store in this process. The package is split
by where its code runs:

* :mod:`~adu_core.engine.runner` (coordinator): planning and the run loop;
* :mod:`~adu_core.engine.executors`: where partitions run (``thread`` and ``process``
  built in; more from plugins through ``adu_register_executors``);
* :mod:`~adu_core.engine.partition` (worker): one partition, source -> validators -> sink;
* :mod:`~adu_core.engine.outcome` (coordinator): tables settled and published, the
  validation merged, the manifest written, the job finished;
* :mod:`~adu_core.engine.recorder`: the store writes, buffered between progress ticks;
* :mod:`~adu_core.engine.progress`: :class:`Progress` for live displays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adu_core.engine.errors import error_info
    from adu_core.engine.executors import choose_executor
    from adu_core.engine.jobsource import OpenedSource, open_job_source
    from adu_core.engine.partition import (
        PartitionProgress,
        PartitionRuntime,
        PartitionTask,
        WorkerCaches,
        run_partition,
    )
    from adu_core.engine.progress import Progress, ProgressCallback
    from adu_core.engine.runner import run_job, submit_and_run

#: name -> the submodule that defines it; imported on first use, so importing one
#: submodule (the built-in executors' plugin, when plugins load) does not import the
#: runner and the store
_WHERE = {
    "error_info": "errors",
    "choose_executor": "executors",
    "PartitionProgress": "partition",
    "PartitionRuntime": "partition",
    "PartitionTask": "partition",
    "WorkerCaches": "partition",
    "run_partition": "partition",
    "Progress": "progress",
    "ProgressCallback": "progress",
    "run_job": "runner",
    "submit_and_run": "runner",
    "OpenedSource": "jobsource",
    "open_job_source": "jobsource",
}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{where}"), name)


__all__ = [
    "OpenedSource",
    "PartitionProgress",
    "PartitionRuntime",
    "PartitionTask",
    "Progress",
    "ProgressCallback",
    "WorkerCaches",
    "choose_executor",
    "error_info",
    "open_job_source",
    "run_job",
    "run_partition",
    "submit_and_run",
]
