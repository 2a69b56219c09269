"""Registers the Parquet sink with ADU."""

from __future__ import annotations

from adu_core.plugin import hookimpl
from adu_core.plugin.components import RegisterSink

from adu_parquet.sink import ParquetSink


@hookimpl
def adu_register_sinks(register: RegisterSink) -> None:
    """The ``parquet`` sink."""
    register(ParquetSink)
