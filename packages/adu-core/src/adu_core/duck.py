"""DuckDB connections that never reach the network.

DuckDB installs and loads "known" extensions on demand by default, downloading them;
an air-gapped tool must not try. Every ADU module opens DuckDB through :func:`connect`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb


def connect(database: str = ":memory:", *, read_only: bool = False, **config: Any) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect`` with extension downloads and autoloading switched off."""
    import duckdb  # imported on first use: most jobs never open DuckDB

    return duckdb.connect(
        database,
        read_only=read_only,
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False, **config},
    )
