"""Incremental exports from the web: cursor columns and `after last` on the form and the
API (a directory confined as an output directory is), and the job page's chain position."""

from __future__ import annotations

import base64
import re

import pytest
from adu_core.models import JobSpec
from flask import Flask
from flask.testing import FlaskClient
from webutil import PASSWORDS, Client, World


def _form(world: World, **extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "connection": "",
        "url": f"duckdb://{world.demo_db}",
        "password": "",
        "target": "web-inc",
        "parallel": "2",
        "compression": "zstd",
        "rules": "",
        "name": "nightly",
        "action": "submit",
        "table": ["shop.orders"],
    }
    data.update(extra)
    return data


def test_the_form_queues_a_delta_with_cursors(clients: dict[str | None, Client], world: World) -> None:
    operator = clients["operator"]
    page = operator.get("/jobs/new").data.decode()
    assert 'name="cursors"' in page and 'name="after_last"' in page
    r = operator.post("/jobs/new", _form(world, cursors="shop.orders=id\n\n", after_last="y"))
    assert r.status_code == 302, r.data.decode()[-800:]
    job_id = re.search(r"/job/([0-9a-f]{32})", r.headers["Location"]).group(1)  # type: ignore[union-attr]
    spec = world.store.get_job(job_id).spec
    assert spec.cursors == {"shop.orders": "id"} and spec.after == "last"
    world.store.delete_job(job_id)
    r = operator.post("/jobs/new", _form(world, cursors="shop.orders"))
    assert r.status_code == 400 and b"schema.table=COLUMN" in r.data


@pytest.fixture
def http(app: Flask) -> FlaskClient:
    return app.test_client()


def _basic(role: str) -> dict[str, str]:
    token = base64.b64encode(f"{role}:{PASSWORDS[role]}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_the_api_takes_cursors_and_after(http: FlaskClient, world: World) -> None:
    body = {
        "source": "postgresql://exporter@db.example/prod",
        "password": "a-typed-url-needs-its-own",  # never the server's (issue 13)
        "target": "api-inc",
        "selection": {"tables": ["public.t"]},
        "cursors": {"public.t": "updated_at"},
        "after": "last",
    }
    r = http.post("/api/jobs", json=body, headers=_basic("operator"))
    assert r.status_code == 201, r.get_json()
    job = world.store.get_job(r.get_json()["id"])
    assert job.spec.cursors == {"public.t": "updated_at"} and job.spec.after == "last"
    world.store.delete_job(job.id)
    before = world.store.count_jobs()
    r = http.post("/api/jobs", json={**body, "after": "/etc"}, headers=_basic("operator"))
    assert r.status_code == 400 and "must be inside" in r.get_json()["message"]
    assert world.store.count_jobs() == before


def test_the_job_page_shows_the_chain_position(clients: dict[str | None, Client], world: World) -> None:
    spec = JobSpec(source="postgresql://exporter@db.example/prod", target=str(world.export_root / "d2"))
    job_id = world.store.create_job(spec)
    world.store.record_watermarks(
        job_id,
        source=spec.source,
        target=spec.target,
        manifest_sha256="b" * 64,
        previous_sha256="a" * 64,
        watermarks={"public.t": ("updated_at", "2026-12-07 00:00:00+00")},
    )
    page = clients["viewer"].get(f"/job/{job_id}").data.decode()
    assert "Chain of transfers" in page and "Delta number 1" in page and "aaaaaaaaaaaaaaaa" in page
    assert "2026-12-07 00:00:00+00" in page
    world.store.delete_job(job_id)
