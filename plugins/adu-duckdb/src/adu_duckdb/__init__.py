"""ADU DuckDB source: tables of a DuckDB database file."""
