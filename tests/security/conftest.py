"""Fixtures of the security tests: a store with users of every role, the app on it, and
the server's own secrets planted where libpq and DuckDB would find them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from adu_core import config
from adu_core.logs import setup_service_logging
from adu_core.services import Context
from adu_core.store import Store
from adu_web import create_app
from flask import Flask
from seckit import PASSWORDS, ROLES, Client, FakePostgres, make_settings

#: the server's own PostgreSQL password, where libpq would look for it
SERVER_PGPASSWORD = "server-env-pgpassword-4711"
SERVER_PGPASS = "server-pgpass-file-secret-0815"


@attrs.define
class SecWorld:
    root: Path
    settings: config.Settings
    store: Store
    files: Path  # ADU_WEB_FILE_ROOT
    pgpass: Path


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


def build_world(root: Path, **env: str) -> SecWorld:
    setup_service_logging(None, "INFO")
    (root / "exports").mkdir(parents=True, exist_ok=True)
    (root / "files").mkdir(exist_ok=True)
    env.setdefault("ADU_WEB_FILE_ROOT", str(root / "files"))
    settings = make_settings(root, **env)
    store = Store.from_settings(settings)
    for role in ROLES:
        store.accounts.add(role, PASSWORDS[role], role)
    return SecWorld(root=root, settings=settings, store=store, files=root / "files", pgpass=root / "none")


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
