"""Plugin hooks: registers the PostgreSQL source."""

from __future__ import annotations

from adu_core.plugin import hookimpl
from adu_core.plugin.components import RegisterSource

from adu_postgres.source import PostgresSource


@hookimpl
def adu_register_sources(register: RegisterSource) -> None:
    register(PostgresSource)
