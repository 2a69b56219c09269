"""The JSON API: same accounts and roles as the pages; HTTP Basic for scripts."""

from __future__ import annotations

import base64

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webutil import PASSWORDS, Client, World, add_partial_job


def _basic(role: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{role}:{PASSWORDS[role]}".encode()).decode()}


@pytest.fixture
def http(app: Flask) -> FlaskClient:
    return app.test_client()


def test_list_jobs(http: FlaskClient, world: World) -> None:
    data = http.get("/api/jobs?limit=2", headers=_basic("viewer")).get_json()
    assert data["total"] >= 4 and len(data["jobs"]) == 2 and data["limit"] == 2
    everything = http.get("/api/jobs?limit=500", headers=_basic("viewer")).get_json()["jobs"]
    assert [j["created_at"] for j in everything] == sorted((j["created_at"] for j in everything), reverse=True)
    partial = http.get("/api/jobs?status=partial", headers=_basic("viewer")).get_json()
    assert world.partial in [j["id"] for j in partial["jobs"]]
    assert all(j["status"] == "partial" for j in partial["jobs"])
    assert http.get("/api/jobs?status=nope", headers=_basic("viewer")).status_code == 400
    assert http.get("/api/jobs?limit=x", headers=_basic("viewer")).status_code == 400


def test_show_job_with_tables(http: FlaskClient, world: World) -> None:
    data = http.get(f"/api/jobs/{world.partial}", headers=_basic("viewer")).get_json()
    assert data["status"] == "partial" and data["url"] == f"/job/{world.partial}"
    tables = {f"{t['schema']}.{t['name']}": t for t in data["tables"]}
    assert tables["public.bad"]["error"]["sqlstate"] == "42501"
    assert "secret" not in data
    assert http.get("/api/jobs/" + "f" * 32, headers=_basic("viewer")).status_code == 404


def test_create_cancel_and_retry(http: FlaskClient, world: World) -> None:
    body = {
        "source": "postgresql://exporter@db.example/prod",
        "target": "api-out",
        "password": "api-pw-1",
        "selection": {"tables": ["public.t"]},
        "parallel": 2,
        "sink_options": {"compression": "lz4"},
    }
    r = http.post("/api/jobs", json=body, headers=_basic("operator"))
    assert r.status_code == 201, r.get_json()
    job = r.get_json()
    assert r.headers["Location"] == f"/api/jobs/{job['id']}"
    assert job["status"] == "queued" and job["has_secret"] and job["created_by"] == "operator"
    assert job["target"] == str(world.export_root / "api-out")
    assert "api-pw-1" not in r.data.decode()
    r = http.post(f"/api/jobs/{job['id']}/cancel", headers=_basic("operator"))
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    assert http.post(f"/api/jobs/{job['id']}/cancel", headers=_basic("operator")).status_code == 409
    world.store.delete_job(job["id"])

    partial = add_partial_job(world.store, world.settings, world.export_root / "api-retry")
    r = http.post(f"/api/jobs/{partial}/retry", json={"password": "again-pw"}, headers=_basic("operator"))
    assert r.status_code == 200 and r.get_json()["status"] == "queued"
    assert r.get_json()["spec"]["retry_tables"] == ["public.bad"]
    assert http.post(f"/api/jobs/{partial}/retry", headers=_basic("operator")).status_code == 409
    world.store.delete_job(partial)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"target": "x"}, "needs 'source' and 'target'"),
        ({"source": "@demo", "target": "/elsewhere"}, "must be inside"),
        ({"source": "@demo", "target": "x", "bogus": 1}, "unknown job spec field"),
        ({"source": "@demo", "target": "x", "parallel": 0}, "parallel must be at least 1"),
        ({"source": "@demo", "target": "x", "parallel": 999}, "parallel must be between"),
        ({"source": "@demo", "target": "x", "sink_options": {"compression": "zip"}}, "compression must be"),
        ({"source": "@ghost", "target": "x"}, "no named connection"),
        ({"source": "@demo", "target": "x", "password": 5}, "password must be a string"),
    ],
)
def test_create_rejects_bad_specs(http: FlaskClient, world: World, body: dict[str, object], message: str) -> None:
    before = world.store.count_jobs()
    r = http.post("/api/jobs", json=body, headers=_basic("operator"))
    assert r.status_code == 400
    assert message in r.get_json()["message"]
    assert world.store.count_jobs() == before


def test_create_needs_a_json_object(http: FlaskClient) -> None:
    r = http.post("/api/jobs", data="nope", headers=_basic("operator"))
    assert r.status_code == 400 and r.is_json


def test_strangers_and_viewers_cannot_create_work(http: FlaskClient, world: World) -> None:
    before = world.store.count_jobs()
    body = {"source": "duckdb:///x.duckdb", "target": "x"}
    assert http.post("/api/jobs", json=body).status_code in (400, 401)  # no session: CSRF or sign-in first
    assert http.post("/api/jobs", json=body, headers=_basic("viewer")).status_code == 403
    assert http.post("/api/discover", json={"source": "duckdb:///x"}, headers=_basic("viewer")).status_code == 403
    assert http.post(f"/api/jobs/{world.queued}/cancel", headers=_basic("viewer")).status_code == 403
    assert world.store.count_jobs() == before


def test_discover(http: FlaskClient, world: World) -> None:
    r = http.post("/api/discover", json={"source": f"duckdb://{world.demo_db}"}, headers=_basic("operator"))
    assert r.status_code == 200
    names = {f"{t['schema']}.{t['name']}" for t in r.get_json()["tables"]}
    assert {"shop.orders", "shop.customers", "telemetry.sensor readings"} <= names
    r = http.post("/api/discover", json={"source": "@demo"}, headers=_basic("operator"))
    assert r.status_code == 200 and r.get_json()["tables"]
    r = http.post("/api/discover", json={}, headers=_basic("operator"))
    assert r.status_code == 400


def test_session_api_with_csrf_header(clients: dict[str | None, Client], world: World) -> None:
    op = clients["operator"]
    r = op.api("POST", "/api/jobs", {"source": "@demo", "target": "sess"})
    assert r.status_code == 201
    world.store.delete_job(r.get_json()["id"])
