"""Registers the DuckDB source."""

from __future__ import annotations

from adu_core.plugin import hookimpl
from adu_core.plugin.components import RegisterSource

from adu_duckdb.source import DuckDBSource


@hookimpl
def adu_register_sources(register: RegisterSource) -> None:
    register(DuckDBSource)
