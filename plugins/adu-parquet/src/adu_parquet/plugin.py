"""Registers the Parquet sink, and the export source the far side loads from, with ADU.

Imported whenever plugins load (``adu --help`` included): the sink's module (pyarrow's
Parquet writer) is imported only when the hook runs.
"""

from __future__ import annotations

from adu_core.plugin import hookimpl
from adu_core.plugin.components import RegisterSink, RegisterSource


@hookimpl
def adu_register_sinks(register: RegisterSink) -> None:
    """The ``parquet`` sink."""
    from adu_parquet.sink import ParquetSink

    register(ParquetSink)


@hookimpl
def adu_register_sources(register: RegisterSource) -> None:
    """The ``export`` source: an ADU export directory, verified first (``adu load``)."""
    from adu_parquet.exportsource import ExportSource

    register(ExportSource)
