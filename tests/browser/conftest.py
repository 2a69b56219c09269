"""Fixtures of the browser tests: the real app on a local port with an embedded worker,
a throwaway PostgreSQL database with a table the test role may not read, and headless
Chromium (Debian's package) driven by Playwright.

Screenshots go to a temporary directory; with ``ADU_UPDATE_SCREENSHOTS=1`` they are
copied to ``docs/screenshots/`` (what the README shows).
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from adu_core import config
from adu_core.logs import setup_service_logging
from adu_core.services import Context
from adu_core.store import Store
from needs import skip_or_fail
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("ADU_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
PASSWORDS = {"admin": "admin-password-1", "operator": "operator-password-1", "viewer": "viewer-password-1"}
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@attrs.define
class LiveServer:
    url: str
    settings: config.Settings
    store: Store
    pg_url: str
    pg_password: str
    shots: Path

    def screenshot(self, page: Any, name: str) -> Path:
        path = self.shots / f"{name}.png"
        page.screenshot(path=str(path), full_page=False, scale="css")
        if os.environ.get("ADU_UPDATE_SCREENSHOTS") == "1":
            DOCS.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, DOCS / path.name)
        return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SEED_SQL = """
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id bigint PRIMARY KEY, name text NOT NULL, email text, joined date);
INSERT INTO shop.customers SELECT g, 'customer ' || g, 'c' || g || '@example.org', date '2020-01-01' + g % 1500
  FROM generate_series(1, 5000) g;
CREATE TABLE shop.orders (id bigint PRIMARY KEY, customer_id bigint, amount numeric(12,2), placed timestamptz,
  note text);
INSERT INTO shop.orders SELECT g, 1 + g % 5000, (g % 997) * 1.25, timestamptz '2024-01-01' + g * interval '1 minute',
  repeat('x', g % 40) FROM generate_series(1, 300000) g;
CREATE TABLE public.audit_log (id serial PRIMARY KEY, at timestamptz DEFAULT now(), event jsonb);
INSERT INTO public.audit_log (event) SELECT jsonb_build_object('n', g) FROM generate_series(1, 2000) g;
ANALYZE;
"""


def _history(store: Store, root: Path) -> None:
    """Two finished jobs from before, so the dashboard shows more than one status."""
    from adu_core.models import ErrorInfo, JobSpec, JobStatus

    failed = store.create_job(
        JobSpec(source="postgresql://exporter@db.internal:5432/crm", target=str(root / "crm"), name="crm weekly"),
        created_by="admin",
    )
    store.claim_job("earlier-worker", job_id=failed)
    store.finish_job(
        failed,
        JobStatus.FAILED,
        error=ErrorInfo(message="cannot connect to db.internal:5432: connection refused", kind="ConnectError"),
    )
    cancelled = store.create_job(
        JobSpec(
            source="vertica://dbadmin@vertica.internal:5433/analytics",
            target=str(root / "analytics"),
            name="analytics backfill",
        ),
        created_by="operator",
    )
    store.request_cancel(cancelled)


@pytest.fixture(scope="module")
def live(pg: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from adu_core.worker import start_embedded_workers
    from adu_web import create_app

    if not Path(CHROMIUM).exists():
        skip_or_fail(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    root = tmp_path_factory.mktemp("browser")
    db = pg.create_database("web")
    db.execute(SEED_SQL)
    # a table the export role cannot read: its export fails, the others go on
    db.execute(
        "CREATE TABLE public.payroll (id int, salary numeric); INSERT INTO public.payroll VALUES (1, 100);"
        "REVOKE ALL ON public.payroll FROM PUBLIC; ANALYZE public.payroll;",
        superuser=True,
    )
    (root / "exports").mkdir()
    settings = config.load(
        {
            "ADU_DATA_DIR": str(root / "data"),
            "ADU_ENV": "test",
            "ADU_PARALLEL": "2",
            "ADU_EXPORT_ROOT": str(root / "exports"),
            "ADU_HEARTBEAT_SECONDS": "1",
        }
    )
    setup_service_logging(settings.log_dir, "INFO")
    store = Store.from_settings(settings)
    for role, pw in PASSWORDS.items():
        store.accounts.add(role, pw, role)
    _history(store, root)
    app = create_app(settings, Context(settings, store=store))
    port = _free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="adu-live-server", daemon=True)
    thread.start()
    stop = threading.Event()
    workers = start_embedded_workers(store, settings, 1, stop)
    parts = db.dsn.split("://", 1)[1]
    userinfo, host = parts.rsplit("@", 1)
    user = userinfo.split(":", 1)[0]
    shots = Path(tempfile.mkdtemp(prefix="adu-shots-"))
    try:
        yield LiveServer(
            url=f"http://127.0.0.1:{port}",
            settings=settings,
            store=store,
            pg_url=f"postgresql://{user}@{host}",
            pg_password=pg.password,
            shots=shots,
        )
    finally:
        stop.set()
        for t in workers:
            t.join(timeout=60)
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        store.dispose()
        db.drop()
        setup_service_logging(None, "INFO")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium; Playwright gives every launch a fresh temporary profile
    (user-data-dir), and every test context its own cookies."""
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@attrs.define
class Session:
    """A browser context signed in as one user, collecting CSP violations and script errors."""

    context: Any
    page: Any
    problems: list[str]


@pytest.fixture
def sign_in(browser: Any, live: LiveServer) -> Iterator[Any]:
    sessions: list[Session] = []

    def make(role: str | None, *, scripts: bool = True) -> Session:
        context = browser.new_context(
            viewport={"width": 1280, "height": 800}, locale="en-GB", timezone_id="UTC", java_script_enabled=scripts
        )
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        session = Session(context, page, problems)
        sessions.append(session)
        if role:
            page.goto(live.url + "/login")
            page.fill("#username", role)
            page.fill("#password", PASSWORDS[role])
            page.click("button[type=submit]")
            page.wait_for_url(live.url + "/")
        return session

    yield make
    for s in sessions:
        s.context.close()
