"""DuckDB connections that never reach the network.

DuckDB installs and loads "known" extensions on demand by default, downloading them;
an air-gapped tool must not try. Every ADU module and plugin opens DuckDB through
:func:`connect`.

adu-core does not depend on DuckDB: the helper lives here (not in a plugin) so that the
plugins that use DuckDB (adu-duckdb, adu-pandera) share it without depending on each
other, and each of them declares ``duckdb`` itself; the core uses it only when asked
(``adu.open_export(...).duckdb(...)``, previews), and says so when DuckDB is missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb


def connect(database: str = ":memory:", *, read_only: bool = False, **config: Any) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect`` with extension downloads and autoloading switched off.

    :raises adu_core.errors.UsageError: DuckDB is not installed.
    """
    try:
        import duckdb  # imported on first use: most jobs never open DuckDB
    except ImportError:
        from adu_core.errors import UsageError

        raise UsageError("this needs DuckDB, which is not installed (pip install duckdb)") from None

    return duckdb.connect(
        database,
        read_only=read_only,
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False, **config},
    )
