"""Findings 1 and 2 through the real pages in headless Chromium: the new-job form's
*Discover tables* never sends the server's credentials to a host the operator names, and
never opens a DuckDB file that reads the server's files."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from adu_core import duck
from adu_core.services import Context
from adu_web import create_app
from needs import skip_or_fail
from seckit import PASSWORDS, SERVER_PGPASS, SERVER_PGPASSWORD, FakePostgres, SecWorld, build_world
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("ADU_TEST_CHROMIUM", "/usr/bin/chromium")
SECRET = "planted-secret-key-value-31337"

pytestmark = pytest.mark.browser


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, SecWorld]]:
    w = build_world(tmp_path)
    app = create_app(w.settings, Context(w.settings, store=w.store))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", w
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        w.store.dispose()


@pytest.fixture
def page(live: tuple[str, SecWorld]) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    url, _w = live
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        try:
            # scripts off: *Discover tables* posts the form and the answer is a whole page
            pg = browser.new_context(java_script_enabled=False).new_page()
            pg.goto(url + "/login")
            pg.fill("#username", "operator")
            pg.fill("#password", PASSWORDS["operator"])
            pg.click("button[type=submit]")
            pg.wait_for_url(url + "/")
            pg.goto(url + "/jobs/new")
            yield pg
        finally:
            browser.close()


def _discover(page: Any, url: str, password: str = "", options: str = "") -> str:
    page.fill("#url", url)
    page.fill("#password", password)
    page.fill("#source_options", options)
    with page.expect_navigation():
        page.click("button[data-discover]")
    return str(page.content())


def test_discover_in_the_browser_never_sends_the_servers_password(
    page: Any, fake_pg: FakePostgres, server_credentials: Path
) -> None:
    base = f"postgresql://whoever@127.0.0.1:{fake_pg.port}"
    html = _discover(page, base + "/x")
    assert "needs a password" in html
    html = _discover(page, base + f"/#?passfile={server_credentials}&dbname=bench", "pw")
    assert "fragment" in html
    html = _discover(page, "postgresql://u@%2Frun%2Fpostgresql/x", "pw")
    assert "TCP host" in html
    assert fake_pg.connections == 0
    _discover(page, base + "/x", "typed-in-the-browser")
    assert fake_pg.passwords == ["typed-in-the-browser"]
    assert SERVER_PGPASSWORD not in fake_pg.passwords and SERVER_PGPASS not in fake_pg.passwords


def test_discover_in_the_browser_never_reads_the_servers_files(page: Any, live: tuple[str, SecWorld]) -> None:
    _url, w = live
    secret = w.settings.data_dir / "planted-secret.txt"
    secret.write_text(SECRET)
    for where in (w.root / "outside.duckdb", w.files / "inside.duckdb"):
        con = duck.connect(str(where))
        con.execute("CREATE TABLE t AS SELECT 1 AS a")
        con.execute(f"CREATE VIEW stolen AS SELECT content FROM read_text('{secret}')")
        con.close()
    html = _discover(page, f"duckdb://{w.root / 'outside.duckdb'}", options="include_views=true")
    assert "ADU_WEB_FILE_ROOT" in html and SECRET not in html
    html = _discover(page, f"duckdb://{w.files / 'inside.duckdb'}", options="include_views=true")
    assert SECRET not in html and "disabled" in html
    html = _discover(page, f"duckdb://{w.files / 'inside.duckdb'}")
    assert 'value="main.t"' in html and SECRET not in html
