""" "Load into…" in headless Chromium: an operator loads a finished export into a named
connection from the export browser; the load is a job like any other, followed on its
page; the rows arrive identical. A viewer gets no such form, and the API refuses a load
into anything but a named connection."""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.request
from typing import Any

import pytest
import yaml
from adu_core.models import JobSpec, TableSelection
from adu_core.secrets import redact_url
from adu_core.services import jobs
from adu_core.services.context import Actor, Context
from pgserver import wait_for


def row_texts(dsn: str, schema: str, name: str) -> list[str]:
    """Every row's ``t::text``, sorted (the oracle: PostgreSQL's own text of the row)."""
    import psycopg2

    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(f'SELECT r::text FROM "{schema}"."{name}" AS r')
            return sorted(r[0] for r in cur.fetchall())
    finally:
        conn.close()


@pytest.fixture(scope="module")
def far(pg: Any, live: Any) -> Any:
    """A second database, reachable as the named connections ``@far`` (target) and
    ``@near`` (the source of the export), their password by environment variable."""
    db = pg.create_database("webfar")
    source_db = live.pg_url  # the live server's database, without its password
    db.source_dsn = pg.url(dbname=source_db.rsplit("/", 1)[1])
    live.settings.connections_file.parent.mkdir(parents=True, exist_ok=True)
    live.settings.connections_file.write_text(
        yaml.safe_dump(
            {
                "connections": {
                    "far": {"url": redact_url(db.dsn, mask=""), "password_env": "ADU_TEST_FAR_PASSWORD"},
                    "near": {"url": source_db, "password_env": "ADU_TEST_FAR_PASSWORD"},
                }
            }
        )
    )
    mp = pytest.MonkeyPatch()
    mp.setenv("ADU_TEST_FAR_PASSWORD", live.pg_password)
    try:
        yield db
    finally:
        mp.undo()
        db.drop()


def _finished(live: Any, job_id: str) -> bool:
    return live.store.get_job(job_id).status.finished


@pytest.fixture(scope="module")
def export_job(live: Any, far: Any) -> str:
    ctx = Context(live.settings, store=live.store)
    spec = JobSpec(
        source="@near",
        target=str(live.settings.export_root / "for-load"),
        selection=TableSelection(tables=("shop.customers",)),
        validate=False,
    )
    job_id = jobs.submit(ctx, spec, actor=Actor.local("cli"))
    assert wait_for(lambda: _finished(live, job_id), timeout=120, interval=0.2)
    assert live.store.get_job(job_id).status.value == "succeeded"
    return job_id


def test_operator_loads_an_export_into_a_named_connection(live: Any, sign_in: Any, far: Any, export_job: str) -> None:
    s = sign_in("operator")
    page = s.page
    page.goto(f"{live.url}/job/{export_job}/export")
    assert page.locator("#load-form").count() == 1
    options = page.eval_on_selector_all("#load-target option", "els => els.map(e => e.value)")
    assert sorted(options) == ["far", "near"]
    page.select_option("#load-target", "far")
    page.select_option("#load-if-exists", "fail")
    live.screenshot(page, "load-into")
    page.click("#load-form button[type=submit]")
    page.wait_for_url(re.compile(r"/job/[0-9a-f]{32}$"))
    load_id = page.url.rsplit("/", 1)[1]
    assert load_id != export_job
    assert wait_for(lambda: _finished(live, load_id), timeout=120, interval=0.2)
    job = live.store.get_job(load_id)
    assert job.kind == "load" and job.status.value == "succeeded", job.error
    assert job.target == "@far"
    page.reload()
    assert "succeeded" in page.inner_text("main")
    assert "shop.customers" in page.inner_text("main")
    live.screenshot(page, "load-job")
    assert row_texts(far.dsn, "shop", "customers") == row_texts(far.source_dsn, "shop", "customers")
    # the load job's page links to the export it read
    page.click("text=Export it loaded")
    assert "checksum matches" in page.content()
    assert page.locator("#load-form").count() == 0
    assert not s.problems, s.problems


def test_viewer_sees_no_load_form(live: Any, sign_in: Any, export_job: str) -> None:
    s = sign_in("viewer")
    s.page.goto(f"{live.url}/job/{export_job}/export")
    assert "checksum matches" in s.page.content()
    assert s.page.locator("#load-form").count() == 0
    status = s.page.evaluate(
        """async (url) => {
        const token = document.querySelector('meta[name="csrf-token"]').content;
        const r = await fetch(url, {method: 'POST', headers: {'X-CSRFToken': token}});
        return r.status; }""",
        f"{live.url}/job/{export_job}/export/load",
    )
    assert status == 403


def _api(live: Any, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    auth = base64.b64encode(b"operator:operator-password-1").decode()
    req = urllib.request.Request(
        live.url + "/api/loads",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Basic {auth}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_api_loads_only_into_named_connections(live: Any, far: Any, export_job: str) -> None:
    status, body = _api(live, {"export_job": export_job, "target": far.dsn})
    assert status == 400
    assert "named connection" in json.dumps(body)
    assert live.pg_password not in json.dumps(body)
    status, body = _api(live, {"export_job": export_job, "target": "@far", "if_exists": "replace"})
    assert status == 201, body
    assert body["kind"] == "load"
    assert wait_for(lambda: _finished(live, body["id"]), timeout=120, interval=0.2)
    assert live.store.get_job(body["id"]).status.value == "succeeded"
