"""The rules that had drifted between the frontends, driven through each of them on one
store: the last-admin rule from ``adu users`` and the admin page, and the audit events of
cancel and retry from ``adu jobs``, the job page and the JSON API."""

from __future__ import annotations

import base64
import getpass

import pytest
from adu_cli.main import cli
from adu_core.models import JobSpec
from click.testing import CliRunner
from webutil import PASSWORDS, Client, World, add_partial_job


def _adu(world: World, *args: str) -> tuple[int, str]:
    s = world.settings
    env = {
        "ADU_DATA_DIR": str(s.data_dir),
        "ADU_ENV": "test",
        "ADU_EXPORT_ROOT": str(world.export_root),
        "ADU_CONNECTIONS_FILE": str(s.connections_file),
    }
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def inactive_admin(world: World):
    """A second admin who is deactivated: the old CLI counted it, the web did not."""
    world.store.accounts.add("ghost", "ghost-password-1", "admin")
    world.store.accounts.set_active("ghost", False)
    yield "ghost"
    world.store.accounts.remove("ghost")


def test_last_active_admin_from_the_cli_and_the_web(
    world: World, clients: dict[str | None, Client], inactive_admin: str
) -> None:
    for args in (
        ("users", "set-role", "admin", "viewer"),
        ("users", "remove", "admin"),
        ("users", "deactivate", "admin"),
    ):
        code, out = _adu(world, *args)
        assert code == 2 and out.startswith("adu: error: ") and "last admin" in out, (args, out)
    admin = clients["admin"]
    admin.post("/admin/users/admin/role", {"role": "operator"})
    assert "last admin" in admin.get("/admin/").data.decode()
    row = world.store.accounts.get("admin")
    assert row.role == "admin" and row.active
    # the inactive admin is no one's last admin: the CLI may remove it, the page may reactivate it
    admin.post(f"/admin/users/{inactive_admin}/active", {"active": "1"})
    assert world.store.accounts.get(inactive_admin).active
    code, _ = _adu(world, "users", "deactivate", inactive_admin)
    assert code == 0 and not world.store.accounts.get(inactive_admin).active


def _basic(role: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{role}:{PASSWORDS[role]}".encode()).decode()}


def _audit(world: World, job_id: str, action: str) -> list[dict[str, str]]:
    return [e.data for e in world.store.list_events(job_id) if e.data and e.data.get("action") == action]  # type: ignore[misc]


@pytest.mark.parametrize("via", ["cli", "web", "api"])
def test_cancel_and_retry_are_audited_whoever_asks(world: World, clients: dict[str | None, Client], via: str) -> None:
    queued = world.store.create_job(
        JobSpec(source="duckdb:///x.duckdb", target=str(world.export_root / f"audit-{via}")), created_by="operator"
    )
    partial = add_partial_job(world.store, world.settings, world.export_root / f"audit-retry-{via}")
    if via == "cli":
        assert _adu(world, "jobs", "cancel", queued)[0] == 0
        assert _adu(world, "jobs", "retry", partial, "--queue")[0] == 0
        who = getpass.getuser()
    elif via == "web":
        op = clients["operator"]
        assert op.post(f"/job/{queued}/cancel").status_code == 302
        assert op.post(f"/job/{partial}/retry").status_code == 302
        who = "operator"
    else:
        http = clients[None].http.application.test_client()
        assert http.post(f"/api/jobs/{queued}/cancel", headers=_basic("operator")).status_code == 200
        assert http.post(f"/api/jobs/{partial}/retry", headers=_basic("operator")).status_code == 200
        who = "operator"
    assert world.store.get_job(queued).status.value == "cancelled"
    assert world.store.get_job(partial).status.value == "queued"
    assert _audit(world, queued, "cancel") == [{"action": "cancel", "by": who, "via": via}]
    assert _audit(world, partial, "retry") == [{"action": "retry", "by": who, "via": via}]
    code, out = _adu(world, "jobs", "show", queued)
    assert code == 0 and f"cancel requested by {who} ({via})" in out
    for job_id in (queued, partial):
        world.store.delete_job(job_id)
