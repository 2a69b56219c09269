"""Every route against every role: anonymous users are sent to sign in (401 for the API),
lower roles get 403, allowed roles get the page."""

from __future__ import annotations

import pytest
from webutil import Client, World

LEVEL = {None: 0, "viewer": 1, "operator": 2, "admin": 3}
NEED = {"viewer": 1, "operator": 2, "admin": 3}
PUBLIC = "public"

#: every route of the app, by (endpoint, method): a path to reach it and the role it needs
#: ({p} = a finished partial job, {e} = the real export job, {q} = a queued job).
#: test_every_route_has_a_rule checks this table against app.url_map: a new route without
#: a rule here fails, so no route escapes the role matrix below.
RULES: dict[tuple[str, str], tuple[str, str]] = {
    ("dashboard.index", "GET"): ("/", "viewer"),
    ("dashboard.jobs_partial", "GET"): ("/partials/jobs", "viewer"),
    ("jobs.show", "GET"): ("/job/{p}", "viewer"),
    ("jobs.partial", "GET"): ("/job/{p}/partial", "viewer"),
    ("logs.show", "GET"): ("/job/{p}/log", "viewer"),
    ("logs.download", "GET"): ("/job/{p}/log/download", "viewer"),
    ("exports.show", "GET"): ("/job/{e}/export", "viewer"),
    ("exports.preview", "GET"): ("/job/{e}/export/table/0", "viewer"),
    ("new_job.new", "GET"): ("/jobs/new", "operator"),
    ("admin.index", "GET"): ("/admin/", "admin"),
    ("api.me", "GET"): ("/api/me", "viewer"),
    ("api.list_jobs", "GET"): ("/api/jobs", "viewer"),
    ("api.show_job", "GET"): ("/api/jobs/{p}", "viewer"),
    ("jobs.cancel", "POST"): ("/job/{q}/cancel", "operator"),
    ("jobs.retry", "POST"): ("/job/{p}/retry", "operator"),
    ("exports.verify", "POST"): ("/job/{e}/export/verify", "viewer"),
    ("new_job.new", "POST"): ("/jobs/new", "operator"),
    ("new_job.discover_partial", "POST"): ("/jobs/new/discover", "operator"),
    ("admin.add_user", "POST"): ("/admin/users", "admin"),
    ("admin.set_role", "POST"): ("/admin/users/viewer/role", "admin"),
    ("admin.set_password", "POST"): ("/admin/users/viewer/password", "admin"),
    ("admin.set_active", "POST"): ("/admin/users/viewer/active", "admin"),
    ("admin.remove_user", "POST"): ("/admin/users/viewer/remove", "admin"),
    ("api.create_job", "POST"): ("/api/jobs", "operator"),
    ("api.cancel_job", "POST"): ("/api/jobs/{q}/cancel", "operator"),
    ("api.retry_job", "POST"): ("/api/jobs/{p}/retry", "operator"),
    ("api.discover", "POST"): ("/api/discover", "operator"),
    ("api.create_load", "POST"): ("/api/loads", "operator"),
    ("exports.load", "POST"): ("/job/{e}/export/load", "operator"),
    # no sign-in: health checks, signing in and out, ADU's own static files
    ("health.healthz", "GET"): ("/healthz", PUBLIC),
    ("health.readyz", "GET"): ("/readyz", PUBLIC),
    ("auth.login", "GET"): ("/login", PUBLIC),
    ("auth.login", "POST"): ("/login", PUBLIC),
    ("auth.logout", "GET"): ("/logout", PUBLIC),
    ("auth.logout", "POST"): ("/logout", PUBLIC),
    ("static", "GET"): ("/static/adu.css", PUBLIC),
}

GET_ROUTES = [(path, need) for (_e, method), (path, need) in RULES.items() if method == "GET" and need != PUBLIC]
# state-changing routes: checked for refusal here, for their effect in the feature tests
POST_ROUTES = [(path, need) for (_e, method), (path, need) in RULES.items() if method == "POST" and need != PUBLIC]


def test_every_route_has_a_rule(app, world: World) -> None:
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    }
    assert sorted(routes - set(RULES)) == [], "routes without a role rule in RULES"
    assert sorted(set(RULES) - routes) == [], "rules for routes that no longer exist"
    adapter = app.url_map.bind("localhost")
    for (endpoint, method), (path, _need) in RULES.items():
        assert adapter.match(_url(path, world), method=method)[0] == endpoint, (endpoint, method, path)


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


def test_health_needs_no_login_and_readiness_needs_a_live_worker(client: Client, world: World) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    r = client.get("/readyz")  # no worker has ever run: jobs would wait forever
    assert r.status_code == 503 and r.get_json() == {"status": "unavailable", "store": "ok", "workers": 0}
    world.store.register_worker("web-test-worker")
    try:
        r = client.get("/readyz")
        assert r.status_code == 200 and r.get_json() == {"status": "ok", "store": "ok", "workers": 1}
    finally:
        world.store.unregister_worker("web-test-worker")


def test_a_dead_embedded_worker_fails_healthz_until_it_is_restarted(world: World, monkeypatch) -> None:
    from adu_core import worker
    from adu_core.services import workers
    from adu_core.services.context import Context
    from adu_web import create_app

    context = Context(world.settings, store=world.store)
    app = create_app(world.settings, context)

    def dies(self, stop, **kwargs):
        raise RuntimeError("a bug killed this worker thread")

    def idles(self, stop, **kwargs):  # alive, and claims none of the shared world's jobs
        stop.wait()

    monkeypatch.setattr(worker.Worker, "run", dies)
    pool = workers.pool(context, 2)
    context.embedded = pool.start()
    for t in pool.threads:
        t.join(timeout=30)
    r = app.test_client().get("/healthz")
    assert r.status_code == 503 and r.get_json()["workers"] == "0/2 embedded workers alive"
    monkeypatch.setattr(worker.Worker, "run", idles)
    assert pool.supervise() == 2 and pool.restarts == 2
    try:
        assert app.test_client().get("/healthz").get_json() == {"status": "ok"}
    finally:
        assert pool.close(grace=30)


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
    assert r.get_json()["store"] != "ok"  # not the pooled connection to the removed file


def test_a_web_request_takes_back_a_job_whose_worker_died(world: World) -> None:
    """A web-only deployment notices dead workers too: a page request reaps expired leases."""
    from adu_core.models import JobSpec
    from adu_core.services.context import Context
    from adu_web import create_app

    job_id = world.store.create_job(JobSpec(source="duckdb:///nowhere.duckdb", target=str(world.root / "reaped")))
    world.store.claim_job("dead-worker", job_id=job_id, lease_seconds=0)
    app = create_app(world.settings, Context(world.settings, store=world.store))
    client = app.test_client()
    assert client.get("/healthz").status_code == 200  # a health check does not reap
    assert world.store.get_job(job_id).status.value == "running"
    client.get("/login")  # any other request does
    job = world.store.get_job(job_id)
    assert job.status.value == "queued" and job.requeues == 1
    world.store.delete_job(job_id)
