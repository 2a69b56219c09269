"""Plugin hooks: registers the PostgreSQL source and load sink.

Imported whenever plugins load (``adu --help`` included): the source's module (psycopg2,
the C decoder) is imported only when the hook runs.
"""

from __future__ import annotations

from adu_core.plugin import hookimpl
from adu_core.plugin.components import RegisterLoadSink, RegisterSource


@hookimpl
def adu_register_sources(register: RegisterSource) -> None:
    from adu_postgres.source import PostgresSource

    register(PostgresSource)


@hookimpl
def adu_register_load_sinks(register: RegisterLoadSink) -> None:
    from adu_postgres.loadsink import PostgresLoadSink

    register(PostgresLoadSink)
