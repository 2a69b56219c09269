"""Fixtures for the PostgreSQL source tests (the server itself comes from tests/pgserver.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pg_helpers import ZOO_SQL


@pytest.fixture(scope="module")
def zoo_db(pg) -> Iterator[Any]:
    """A database holding the type zoo (module scope: built once)."""
    db = pg.create_database("zoo")
    db.execute("CREATE EXTENSION IF NOT EXISTS hstore", superuser=True)
    db.execute(ZOO_SQL.replace("CREATE EXTENSION IF NOT EXISTS hstore;", ""))
    try:
        yield db
    finally:
        db.drop()
