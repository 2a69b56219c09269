"""Every route against every role: anonymous users are sent to sign in (401 for the API),
lower roles get 403, allowed roles get the page."""

from __future__ import annotations

import pytest
from webutil import Client, World

LEVEL = {None: 0, "viewer": 1, "operator": 2, "admin": 3}
NEED = {"viewer": 1, "operator": 2, "admin": 3}

# (path template, role needed); {p} = a finished partial job, {e} = the real export job
GET_ROUTES = [
    ("/", "viewer"),
    ("/partials/jobs", "viewer"),
    ("/job/{p}", "viewer"),
    ("/job/{p}/partial", "viewer"),
    ("/job/{p}/log", "viewer"),
    ("/job/{p}/log/download", "viewer"),
    ("/job/{e}/export", "viewer"),
    ("/job/{e}/export/table/0", "viewer"),
    ("/jobs/new", "operator"),
    ("/admin/", "admin"),
    ("/api/me", "viewer"),
    ("/api/jobs", "viewer"),
    ("/api/jobs/{p}", "viewer"),
]

# state-changing routes: checked for refusal here, for their effect in the feature tests
POST_ROUTES = [
    ("/job/{q}/cancel", "operator"),
    ("/job/{p}/retry", "operator"),
    ("/jobs/new", "operator"),
    ("/jobs/new/discover", "operator"),
    ("/admin/users", "admin"),
    ("/admin/users/viewer/role", "admin"),
    ("/admin/users/viewer/password", "admin"),
    ("/admin/users/viewer/remove", "admin"),
    ("/api/jobs", "operator"),
    ("/api/jobs/{q}/cancel", "operator"),
    ("/api/jobs/{p}/retry", "operator"),
    ("/api/discover", "operator"),
]


def _url(template: str, world: World) -> str:
    return template.format(p=world.partial, e=world.exported, q=world.queued)


@pytest.mark.parametrize(("template", "need"), GET_ROUTES)
@pytest.mark.parametrize("role", [None, "viewer", "operator", "admin"])
def test_get_routes_by_role(
    clients: dict[str | None, Client], world: World, role: str | None, template: str, need: str
) -> None:
    url = _url(template, world)
    r = clients[role].get(url)
    if role is None:
        if url.startswith("/api/"):
            assert r.status_code == 401
            assert r.is_json
        else:
            assert r.status_code == 302
            assert r.headers["Location"].startswith("/login?next=")
    elif LEVEL[role] < NEED[need]:
        assert r.status_code == 403
    else:
        assert r.status_code == 200, (url, r.data[:500])


REFUSED_POSTS = [
    (role, t, need) for t, need in POST_ROUTES for role in (None, "viewer", "operator") if LEVEL[role] < NEED[need]
]


@pytest.mark.parametrize(("role", "template", "need"), REFUSED_POSTS)
def test_post_routes_refused_below_role(
    clients: dict[str | None, Client], world: World, role: str | None, template: str, need: str
) -> None:
    url = _url(template, world)
    c = clients[role]
    if url.startswith("/api/"):
        r = c.api("POST", url, {"source": "duckdb:///nowhere", "target": "x"})
    else:
        r = c.post(url, {"role": "admin", "password": "whatever-123", "username": "mallory"})
    if role is None:
        assert r.status_code in (302, 401)
    else:
        assert r.status_code == 403
    # nothing changed
    assert world.store.get_job(world.queued).status.value == "queued"
    assert world.store.accounts.get("viewer").role == "viewer"
    assert "mallory" not in [u.username for u in world.store.accounts.list()]


def test_viewer_sees_no_operator_buttons(clients: dict[str | None, Client], world: World) -> None:
    viewer = clients["viewer"].get(f"/job/{world.queued}").data.decode()
    operator = clients["operator"].get(f"/job/{world.queued}").data.decode()
    assert "Cancel job" not in viewer and "Cancel job" in operator
    assert "New job" not in clients["viewer"].get("/").data.decode()
    assert "Retry failed tables" in clients["operator"].get(f"/job/{world.partial}").data.decode()
    assert "Retry failed tables" not in clients["viewer"].get(f"/job/{world.partial}").data.decode()
    assert ">Admin<" not in operator


def test_health_needs_no_login(client: Client) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.get_json()["store"] == "ok"


def test_readyz_reports_an_unreachable_store(world: World) -> None:
    from adu_core.services import Context
    from adu_core.store import Store
    from adu_web import create_app

    broken = Store(f"sqlite:///{world.root / 'broken.db'}")
    app = create_app(world.settings, Context(world.settings, store=broken))
    (world.root / "broken.db").unlink()
    (world.root / "broken.db").mkdir()  # a directory where the database file was
    r = app.test_client().get("/readyz")
    assert r.status_code == 503
    assert r.get_json()["status"] == "unavailable"
