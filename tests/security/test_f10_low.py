"""Finding 10 (low): logout did not end the session server-side; a signed-in
``GET /login?next=/%0d%0aX:1`` gave 500; the API took a 1 MB job label; sslpassword came
back unmasked in the API's JSON; viewers saw tracebacks with server paths."""

from __future__ import annotations

import pyarrow as pa
from adu_core.models import ColumnInfo, ErrorInfo, JobSpec, JobStatus, SourceInfo, TableInfo, TableStatus
from adu_core.store import TableUpdate
from flask import Flask
from seckit import Client, SecWorld

SERVER_PATH = "/srv/adu/internal/secret_module.py"


def test_logout_ends_the_session_everywhere(app: Flask) -> None:
    ana = Client(app, "operator")
    thief = app.test_client()  # the captured cookie, used from another address
    cookie = ana.http.get_cookie("adu_session")
    assert cookie is not None
    thief.set_cookie("adu_session", cookie.value)
    assert thief.get("/", environ_base={"REMOTE_ADDR": "198.51.100.9"}).status_code == 200
    r = ana.http.post("/logout", data={"csrf_token": ana.token()})
    assert r.status_code == 302
    r = thief.get("/", environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_a_role_change_ends_the_session(world: SecWorld, app: Flask) -> None:
    c = Client(app, "viewer")
    assert c.http.get("/").status_code == 200
    world.store.accounts.set_role("viewer", "operator")
    assert c.http.get("/").status_code == 302


def test_a_crlf_next_redirects_safely(app: Flask) -> None:
    c = Client(app, "viewer")
    r = c.http.get("/login?next=/%0d%0aX:1")
    assert r.status_code == 302 and r.headers["Location"] == "/" and "X" not in r.headers


def test_the_api_caps_the_label(operator: Client) -> None:
    body = {"source": "postgresql://u@db.example/x", "target": "l", "password": "pw-123456"}
    r = operator.api("POST", "/api/jobs", {**body, "name": "x" * (1024 * 1024)})
    assert r.status_code in (400, 413)
    r = operator.api("POST", "/api/jobs", {**body, "name": "x" * 201})
    assert r.status_code == 400 and "200" in r.get_json()["message"]
    assert operator.api("POST", "/api/jobs", {**body, "name": "x" * 200}).status_code == 201


def test_sslpassword_never_comes_back(world: SecWorld, app: Flask, operator: Client) -> None:
    job_id = world.store.create_job(
        JobSpec(source="postgresql://u@db.example/x", target="/tmp/x", source_options={"sslpassword": "key-pass-77"}),
        created_by="cli",
    )
    for role in ("viewer", "operator", "admin"):
        text = Client(app, role).api("GET", f"/api/jobs/{job_id}").get_data(as_text=True)
        assert "key-pass-77" not in text and "***" in text
    r = operator.api(
        "POST",
        "/api/jobs",
        {
            "source": "postgresql://u@db.example/x",
            "target": "t",
            "password": "p",
            "source_options": {"sslpassword": "z"},
        },
    )
    assert r.status_code == 400


def _failed_job(world: SecWorld) -> str:
    spec = JobSpec(source="postgresql://u@db.example/x", target=str(world.root / "exports" / "f"))
    job_id = world.store.create_job(spec, created_by="operator")
    world.store.claim_job("w", job_id=job_id)
    col = ColumnInfo("id", "bigint", pa.int64())
    world.store.set_job_plan(
        job_id, SourceInfo(url=spec.source, kind="postgresql"), [(TableInfo("public", "t", (col,)), 1)]
    )
    error = ErrorInfo(
        message="boom", kind="SourceError", traceback=f'Traceback (most recent call last):\n  File "{SERVER_PATH}"'
    )
    world.store.record_batch(job_id, tables=[TableUpdate("public", "t", status=TableStatus.FAILED, error=error)])
    world.store.finish_job(job_id, JobStatus.FAILED, error=error)
    log = world.settings.job_log_path(job_id)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f'{{"level": "ERROR", "message": "boom", "exc": "File {SERVER_PATH}"}}\n')
    return job_id


def test_viewers_see_no_tracebacks(world: SecWorld, app: Flask) -> None:
    job_id = _failed_job(world)
    viewer, operator = Client(app, "viewer"), Client(app, "operator")
    for url in (f"/job/{job_id}", f"/api/jobs/{job_id}", f"/job/{job_id}/log", f"/job/{job_id}/log/download"):
        text = viewer.http.get(url).get_data(as_text=True)
        assert SERVER_PATH not in text and "boom" in text, url
    assert SERVER_PATH in operator.http.get(f"/job/{job_id}").get_data(as_text=True)
