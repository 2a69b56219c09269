"""Importing pandera through ADU leaves pyarrow's behaviour as it was.

With pyspark installed (the interop tests install it), ``import pandera`` imports
``pyspark.pandas``, which sets ``PYARROW_IGNORE_TIMEZONE=1`` for the whole process: pyarrow
then builds timestamptz values from Python datetimes by their wall time. Found when the
Vertica type tests, run after the validation tests, read 12:00+02 back as 12:00 UTC.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pyarrow as pa
import pytest

PROBE = """
import datetime as dt, os
import pyarrow as pa
from adu_pandera.imports import import_pandera
import_pandera()
import adu_pandera.models  # noqa: F401
import pandera.api.polars.model  # noqa: F401
print(os.environ.get("PYARROW_IGNORE_TIMEZONE"))
v = dt.datetime(1960, 6, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
print(pa.array([v], pa.timestamp("us", "UTC"))[0].as_py().isoformat())
"""


def test_importing_pandera_keeps_pyarrow_time_zones() -> None:
    pytest.importorskip("pyspark")  # the side effect comes with pyspark (a test dependency)
    env = {k: v for k, v in os.environ.items() if k != "PYARROW_IGNORE_TIMEZONE"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["None", "1960-06-01T10:00:00+00:00"]


def test_vertica_values_keep_their_instant_whatever_pyarrow_is_told(monkeypatch: pytest.MonkeyPatch) -> None:
    from adu_vertica.decode import to_arrow_value
    from adu_vertica.types import parse_type

    monkeypatch.setenv("PYARROW_IGNORE_TIMEZONE", "1")
    v = dt.datetime(1960, 6, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    got = pa.array([to_arrow_value(v, parse_type("timestamptz"))], pa.timestamp("us", "UTC"))
    assert got[0].value == int((v - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) / dt.timedelta(microseconds=1))
