"""Registers the Parquet sink with ADU.

Imported whenever plugins load (``adu --help`` included): the sink's module (pyarrow's
Parquet writer) is imported only when the hook runs.
"""

from __future__ import annotations

from adu_core.plugin import hookimpl
from adu_core.plugin.components import RegisterSink


@hookimpl
def adu_register_sinks(register: RegisterSink) -> None:
    """The ``parquet`` sink."""
    from adu_parquet.sink import ParquetSink

    register(ParquetSink)
