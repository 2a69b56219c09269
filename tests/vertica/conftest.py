"""Fixtures for the Vertica tests: the wire-protocol test server, or a real Vertica.

By default a fake two-node Vertica cluster (``vertica_wire.VerticaTestServer``) starts on
127.0.0.1 and free ports. When ``ADU_TEST_VERTICA_URL`` is set (a ``vertica://`` URL of a
user allowed to create schemas, tables and users), the same tests run against that
server: the fixture creates the test tables there with real DDL (schema ``adu_test``,
dropped first) and the tests that need fault injection (dropping a node mid-export,
slowing a query down) are skipped.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from vertica_env import VerticaEnv
from vertica_tables import SCHEMA, all_tables
from vertica_wire import VerticaTestServer

REAL_URL = os.environ.get("ADU_TEST_VERTICA_URL")


@pytest.fixture(scope="session")
def vertica() -> Iterator[VerticaEnv]:
    if REAL_URL:
        env = VerticaEnv(REAL_URL, None)
        conn = env._real()
        try:
            conn.cursor().execute(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
        finally:
            conn.close()
        for t in all_tables():
            env.create(t)
        yield env
        return
    server = VerticaTestServer(nodes=2).start()
    env = VerticaEnv(server.url(), server)
    for t in all_tables():
        env.create(t)
    try:
        yield env
    finally:
        server.stop()


@pytest.fixture
def fresh_server() -> Iterator[VerticaTestServer]:
    """A private fake cluster for tests that break things (auth modes, stopped nodes)."""
    server = VerticaTestServer(nodes=2).start()
    try:
        yield server
    finally:
        server.stop()
