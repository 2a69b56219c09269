"""ADU core: the models, plugin system, job engine and store behind every frontend.

Typical use from a notebook::

    from adu_core import JobSpec, run_job
    result = run_job(JobSpec(source="postgresql://me@db/prod", target="/exports/today"))
"""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("adu-core")
except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

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

__all__ = [
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
    "__version__",
]

import logging as _logging

# a library stays quiet until the application configures logging (never Python's
# last-resort stderr handler, which would print tracebacks on a user's terminal)
_logging.getLogger("adu").addHandler(_logging.NullHandler())
