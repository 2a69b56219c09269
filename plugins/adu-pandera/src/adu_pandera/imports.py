"""Importing pandera (and users' rules modules) without letting them change the process.

When pyspark is installed, ``import pandera`` imports ``pyspark.pandas``, which sets
``PYARROW_IGNORE_TIMEZONE=1`` for the whole process. From then on pyarrow builds
timestamp-with-time-zone arrays from Python datetimes by their wall time, ignoring their
offset: ``12:00+02`` becomes ``12:00 UTC``. Sources build some arrays that way (Vertica's
text protocol), so a validated job would have written wrong instants. Every import of
pandera goes through :func:`import_pandera`, and every rules module through
:func:`keep_environment`, which put the variable back as it was.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

#: what ``pyspark.pandas`` sets on import (read by pyarrow at every conversion)
IGNORE_TIMEZONE = "PYARROW_IGNORE_TIMEZONE"


@contextlib.contextmanager
def keep_environment() -> Iterator[None]:
    """Run an import, then restore ``PYARROW_IGNORE_TIMEZONE`` to what it was before it."""
    before = os.environ.get(IGNORE_TIMEZONE)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(IGNORE_TIMEZONE, None)
        else:
            os.environ[IGNORE_TIMEZONE] = before


def import_pandera() -> None:
    """Import pandera once, undoing what its optional pyspark integration does to the process."""
    if "pandera" in sys.modules:
        return
    with keep_environment():
        import pandera  # noqa: F401
