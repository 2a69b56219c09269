"""Registers the DuckDB source, the DuckDB load sink and the ``adu demo`` command.

Imported whenever plugins load (``adu --help`` included): DuckDB and click are imported
only when a hook runs.
"""

from __future__ import annotations

from typing import Any

from adu_core.plugin import hookimpl
from adu_core.plugin.components import RegisterLoadSink, RegisterSource


@hookimpl
def adu_register_sources(register: RegisterSource) -> None:
    from adu_duckdb.source import DuckDBSource

    register(DuckDBSource)


@hookimpl
def adu_register_load_sinks(register: RegisterLoadSink) -> None:
    from adu_duckdb.loadsink import DuckDBLoadSink

    register(DuckDBLoadSink)


@hookimpl
def adu_register_commands(cli: Any) -> None:
    """``adu demo``."""
    from adu_duckdb.commands import demo_command

    cli.add_command(demo_command())
