"""Fixtures of the web tests: one store with users of every role, jobs in every state
(one a real DuckDB export with a manifest), and signed-in Flask test clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from adu_core.engine import run_job
from adu_core.logs import setup_service_logging
from adu_core.models import JobSpec, JobStatus
from adu_core.services import Context
from adu_core.store import Store
from adu_web import create_app
from flask import Flask
from webutil import JOB_PASSWORD, PASSWORDS, ROLES, Client, World, add_partial_job, make_settings


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from adu_duckdb.demo import make_demo_database

    setup_service_logging(None, "INFO")  # what adu serve / wsgi do: INFO records reach the job log
    root = tmp_path_factory.mktemp("web")
    (root / "exports").mkdir()
    settings = make_settings(root)
    store = Store.from_settings(settings)
    for role in ROLES:
        store.accounts.add(role, PASSWORDS[role], role)
    demo = root / "demo.duckdb"
    make_demo_database(str(demo))
    (root / "connections.yaml").write_text(
        "connections:\n"
        f"  demo:\n    url: duckdb://{demo}\n    description: the sample database\n"
        "  warehouse:\n    url: postgresql://exporter@db.internal:5432/prod\n"
        "    password_env: ADU_TEST_WAREHOUSE_PW\n    description: production\n"
    )
    w = World(root=root, settings=settings, store=store, demo_db=demo, export_root=root / "exports")
    w.queued = store.create_job(
        JobSpec(source="postgresql://exporter@db.example/prod", target=str(root / "exports" / "q")),
        created_by="operator",
        password=JOB_PASSWORD,
    )
    w.running = store.create_job(
        JobSpec(source="postgresql://exporter@db.example/prod", target=str(root / "exports" / "r")),
        created_by="operator",
    )
    store.claim_job("test-worker", job_id=w.running)
    w.partial = add_partial_job(store, settings, root / "exports" / "p")
    w.exported = store.create_job(
        JobSpec(source=f"duckdb://{demo}", target=str(root / "exports" / "demo"), name="demo export"),
        created_by="admin",
    )
    store.claim_job("test-worker", job_id=w.exported)
    result = run_job(store, w.exported, settings=settings, executor="thread")
    assert result.status == JobStatus.SUCCEEDED, result
    yield w
    store.dispose()


@pytest.fixture(scope="session")
def app(world: World) -> Flask:
    return create_app(world.settings, Context(world.settings, store=world.store))


@pytest.fixture
def client(app: Flask) -> Client:
    return Client(app)


@pytest.fixture(scope="session")
def clients(app: Flask) -> dict[str | None, Client]:
    """Signed-in clients of every role, shared by the tests (which must not sign them out)."""
    return {None: Client(app), **{role: Client(app, role) for role in ROLES}}


@pytest.fixture(autouse=True)
def _fresh_throttle() -> Iterator[None]:
    from adu_web.auth import throttle

    throttle._fails.clear()
    yield
    throttle._fails.clear()
