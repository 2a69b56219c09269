"""Fixtures of the security tests: a store with users of every role, the app on it, and
the server's own secrets planted where libpq and DuckDB would find them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from adu_core.services import Context
from adu_web import create_app
from flask import Flask
from seckit import SERVER_PGPASS, SERVER_PGPASSWORD, Client, FakePostgres, SecWorld, build_world


@pytest.fixture
def server_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PGPASSWORD and a ~/.pgpass-style file (PGPASSFILE) matching every host, as a
    server that reads its own database would have them."""
    pgpass = tmp_path / "server.pgpass"
    pgpass.write_text(f"*:*:*:*:{SERVER_PGPASS}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSWORD", SERVER_PGPASSWORD)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    return pgpass


@pytest.fixture
def world(tmp_path: Path) -> Iterator[SecWorld]:
    w = build_world(tmp_path)
    yield w
    w.store.dispose()


@pytest.fixture
def app(world: SecWorld) -> Flask:
    return create_app(world.settings, Context(world.settings, store=world.store))


@pytest.fixture
def operator(app: Flask) -> Client:
    return Client(app, "operator")


@pytest.fixture
def fake_pg() -> Iterator[FakePostgres]:
    server = FakePostgres()
    yield server
    server.close()
