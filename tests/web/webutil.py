"""Helpers of the web tests: settings, users, jobs in chosen states, a CSRF-aware client."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import attrs
from adu_core import config
from adu_core.models import (
    ColumnInfo,
    ErrorInfo,
    JobSpec,
    JobStatus,
    SourceInfo,
    TableInfo,
    TableSelection,
    TableStatus,
    ValidationReport,
)
from adu_core.store import Store, TableUpdate
from flask import Flask
from flask.testing import FlaskClient

ROLES = ("viewer", "operator", "admin")
PASSWORDS = {role: f"pw-{role}-123456" for role in ROLES}
JOB_PASSWORD = "Sup3r-Secret-Typed-Pw"
CONN_SECRET = "conn-secret-value-987"
TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@attrs.define
class World:
    root: Path
    settings: config.Settings
    store: Store
    demo_db: Path
    export_root: Path
    queued: str = ""
    running: str = ""
    partial: str = ""
    exported: str = ""


def make_settings(root: Path, **extra: str) -> config.Settings:
    env = {
        "ADU_DATA_DIR": str(root / "data"),
        "ADU_ENV": "test",
        "ADU_EXPORT_ROOT": str(root / "exports"),
        "ADU_CONNECTIONS_FILE": str(root / "connections.yaml"),
        "ADU_PARALLEL": "2",
        "ADU_WEB_FILE_ROOT": str(root),  # the demo DuckDB file is typed as a URL by some tests
    }
    env.update(extra)
    return config.load(env)


def add_partial_job(store: Store, settings: config.Settings, target: Path) -> str:
    """A finished job with one succeeded and one failed table, and a log file."""
    spec = JobSpec(
        source="postgresql://exporter@db.example:5432/prod",
        target=str(target),
        selection=TableSelection(tables=("public.good", "public.bad")),
        name="nightly",
    )
    job_id = store.create_job(spec, created_by="operator")
    store.claim_job("test-worker", job_id=job_id)
    col = ColumnInfo("id", "bigint", __import__("pyarrow").int64())
    store.set_job_plan(
        job_id,
        SourceInfo(url=spec.source, kind="postgresql"),
        [
            (TableInfo("public", "good", (col,), row_estimate=100), 1),
            (TableInfo("public", "bad", (col,), row_estimate=50), 1),
        ],
    )
    good = TableUpdate(
        "public",
        "good",
        status=TableStatus.SUCCEEDED,
        rows=100,
        bytes=4096,
        started_at=1.0,
        finished_at=3.0,
        validation=ValidationReport(mode="fail"),
    )
    bad = TableUpdate(
        "public",
        "bad",
        status=TableStatus.FAILED,
        rows=0,
        started_at=1.0,
        finished_at=2.0,
        error=ErrorInfo(
            message='permission denied for table "bad"',
            kind="SourceError",
            traceback='Traceback (most recent call last):\n  File "x.py"\nSourceError: boom',
            context={"table": "public.bad", "partition": 0},
            sqlstate="42501",
        ),
    )
    store.record_batch(job_id, tables=[good, bad])
    store.finish_job(job_id, JobStatus.PARTIAL)
    log_path = settings.job_log_path(job_id)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(450):
        level = ("DEBUG", "INFO", "WARNING", "ERROR")[i % 4]
        table = ("public.good", "public.bad", None)[i % 3]
        entry: dict[str, Any] = {
            "ts": 1000.0 + i,
            "time": f"2026-01-01T00:00:{i % 60:02d}.000Z",
            "level": level,
            "logger": "adu.engine",
            "message": f"entry number {i}",
            "job_id": job_id,
        }
        if table:
            entry["table"] = table
        if i == 449:
            entry["exc"] = "Traceback (most recent call last):\nValueError: last one"
        lines.append(json.dumps(entry))
    log_path.write_text("\n".join(lines) + "\n")
    return job_id


class Client:
    """A test client that knows its CSRF token."""

    def __init__(self, app: Flask, role: str | None = None) -> None:
        self.http: FlaskClient = app.test_client()
        self.role = role
        if role:
            r = self.login(role, PASSWORDS[role])
            assert r.status_code == 302, r.data

    def token(self) -> str:
        page = self.http.get("/login").data.decode()
        m = TOKEN.search(page)
        if m is None:  # signed in: /login redirects; any page carries the token
            m = TOKEN.search(self.http.get("/logout").data.decode())
        assert m is not None
        return m.group(1)

    def login(self, username: str, password: str, **kw: Any) -> Any:
        return self.http.post(
            "/login", data={"username": username, "password": password, "csrf_token": self.token()}, **kw
        )

    def get(self, url: str, **kw: Any) -> Any:
        return self.http.get(url, **kw)

    def post(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        data = dict(data or {})
        data.setdefault("csrf_token", self.token())
        return self.http.post(url, data=data, **kw)

    def api(self, method: str, url: str, body: Any = None, **kw: Any) -> Any:
        headers = kw.pop("headers", {})
        if method != "GET":
            headers.setdefault("X-CSRFToken", self.token())
        return self.http.open(url, method=method, json=body, headers=headers, **kw)
