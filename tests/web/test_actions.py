"""State changes: cancel and retry from the job page, the admin's account management."""

from __future__ import annotations

import pytest
from adu_core.models import JobSpec
from flask import Flask
from webutil import Client, World, add_partial_job


@pytest.fixture
def operator(clients: dict[str | None, Client]) -> Client:
    return clients["operator"]


@pytest.fixture
def admin(clients: dict[str | None, Client]) -> Client:
    return clients["admin"]


def _queued(world: World) -> str:
    return world.store.create_job(
        JobSpec(source="duckdb:///x.duckdb", target=str(world.export_root / "c")), created_by="operator"
    )


def test_cancel_a_queued_job(operator: Client, world: World) -> None:
    job_id = _queued(world)
    r = operator.post(f"/job/{job_id}/cancel")
    assert r.status_code == 302
    job = world.store.get_job(job_id)
    assert job.status.value == "cancelled" and job.cancel_requested
    page = operator.get(f"/job/{job_id}").data.decode()
    assert "Cancel requested." in page and "cancel requested by operator" in page
    # again: already finished, a readable message
    operator.post(f"/job/{job_id}/cancel")
    assert "has already finished" in operator.get(f"/job/{job_id}").data.decode()
    world.store.delete_job(job_id)


def test_cancel_a_running_job_asks_the_worker(operator: Client, world: World) -> None:
    job_id = _queued(world)
    world.store.claim_job("w", job_id=job_id)
    operator.post(f"/job/{job_id}/cancel")
    job = world.store.get_job(job_id)
    assert job.status.value == "running" and job.cancel_requested
    assert "cancelling" in operator.get("/").data.decode()
    assert "cancel requested" in operator.get(f"/job/{job_id}").data.decode()
    world.store.delete_job(job_id)


def test_retry_failed_tables(operator: Client, world: World) -> None:
    job_id = add_partial_job(world.store, world.settings, world.export_root / "retry")
    r = operator.post(f"/job/{job_id}/retry", {"password": "retry-pw-1"})
    assert r.status_code == 302
    job = world.store.get_job(job_id)
    assert job.status.value == "queued"
    assert job.spec.retry_tables == ("public.bad",)
    assert world.store.job_secret(job_id) == "retry-pw-1"
    assert "retry-pw-1" not in operator.get(f"/job/{job_id}").data.decode()
    # a queued job cannot be retried
    operator.post(f"/job/{job_id}/retry")
    assert "is still queued" in operator.get(f"/job/{job_id}").data.decode()
    world.store.delete_job(job_id)


def test_admin_page_lists_users_and_connection_references(
    admin: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADU_TEST_WAREHOUSE_PW", "warehouse-secret-pw")
    page = admin.get("/admin/").data.decode()
    for role in ("viewer", "operator", "admin"):
        assert f"<td>{role}</td>" in page
    assert "@warehouse" in page and "environment variable ADU_TEST_WAREHOUSE_PW" in page
    assert "warehouse-secret-pw" not in page
    assert "postgresql://exporter@db.internal:5432/prod" in page
    assert "password_hash" not in page and "scrypt$" not in page


def test_admin_shows_a_broken_connections_file(admin: Client, world: World) -> None:
    path = world.root / "connections.yaml"
    good = path.read_text()
    try:
        path.write_text("connections:\n  bad:\n    url: postgresql://u:inline-pw@h/db\n")
        page = admin.get("/admin/").data.decode()
        assert "holds a password in its URL" in page and "inline-pw" not in page
    finally:
        path.write_text(good)


def test_admin_manages_users(admin: Client, app: Flask, world: World) -> None:
    r = admin.post(
        "/admin/users", {"username": "carol", "role": "operator", "password": "carol-pw-123", "confirm": "carol-pw-123"}
    )
    assert r.status_code == 302
    assert world.store.accounts.get("carol").role == "operator"
    assert Client(app, None).login("carol", "carol-pw-123").status_code == 302
    admin.post("/admin/users/carol/role", {"role": "viewer"})
    assert world.store.accounts.get("carol").role == "viewer"
    admin.post("/admin/users/carol/password", {"password": "carol-pw-456"})
    assert Client(app, None).login("carol", "carol-pw-456").status_code == 302
    admin.post("/admin/users/carol/remove")
    assert "carol" not in [u.username for u in world.store.accounts.list()]
    assert admin.post("/admin/users/carol/remove").status_code == 404


def test_admin_form_errors(admin: Client, world: World) -> None:
    admin.post("/admin/users", {"username": "dave", "role": "viewer", "password": "short", "confirm": "short"})
    assert "dave" not in [u.username for u in world.store.accounts.list()]
    admin.post(
        "/admin/users", {"username": "dave", "role": "viewer", "password": "long-enough-1", "confirm": "different-1"}
    )
    assert "dave" not in [u.username for u in world.store.accounts.list()]
    admin.post(
        "/admin/users",
        {"username": "viewer", "role": "viewer", "password": "long-enough-1", "confirm": "long-enough-1"},
    )
    assert "already exists" in admin.get("/admin/").data.decode()
    assert admin.post("/admin/users/viewer/role", {"role": "root"}).status_code == 400
    assert admin.post("/admin/users/no%20such/role", {"role": "viewer"}).status_code == 404


def test_a_removed_or_demoted_user_loses_access_at_once(admin: Client, app: Flask, world: World) -> None:
    world.store.accounts.add("erin", "erin-password-1", "operator")
    erin = Client(app, None)
    erin.login("erin", "erin-password-1")
    assert erin.get("/jobs/new").status_code == 200
    admin.post("/admin/users/erin/role", {"role": "viewer"})
    assert erin.get("/jobs/new").status_code == 302  # a new role ends the session (issue 13)
    erin.login("erin", "erin-password-1")
    assert erin.get("/jobs/new").status_code == 403
    admin.post("/admin/users/erin/remove")
    assert erin.get("/").status_code == 302


def test_the_last_admin_stays(admin: Client, world: World) -> None:
    admin.post("/admin/users/admin/role", {"role": "viewer"})
    assert world.store.accounts.get("admin").role == "admin"
    assert "last admin" in admin.get("/admin/").data.decode()
    admin.post("/admin/users/admin/remove")
    assert world.store.accounts.get("admin").role == "admin"
    assert "cannot remove your own account" in admin.get("/admin/").data.decode()


def test_a_new_password_ends_older_sessions(admin: Client, app: Flask, world: World) -> None:
    world.store.accounts.add("fay", "fay-password-1", "viewer")
    fay = Client(app, None)
    assert fay.login("fay", "fay-password-1").status_code == 302
    assert fay.get("/").status_code == 200
    admin.post("/admin/users/fay/password", {"password": "fay-password-2"})
    assert fay.get("/").status_code == 302  # signed out: the old password's session is gone
    assert fay.login("fay", "fay-password-2").status_code == 302
    assert fay.get("/").status_code == 200
    world.store.accounts.remove("fay")
