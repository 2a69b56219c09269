"""Fixtures of the fault tests: one source database for all of them (read only)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from faultkit import source_sql


@pytest.fixture(scope="session")
def source_db(pg: Any) -> Iterator[Any]:
    """``public.orders`` and the ``many`` schema (see :func:`faultkit.source_sql`)."""
    db = pg.create_database("faults")
    db.execute(source_sql())
    try:
        yield db
    finally:
        db.drop()


@pytest.fixture
def store_db(pg: Any) -> Iterator[Any]:
    """An empty database for a job store on PostgreSQL (see :func:`faultkit.outage`)."""
    db = pg.create_database("store")
    try:
        yield db
    finally:
        db.drop()
