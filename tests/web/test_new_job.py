"""The new-job page: discover a source, choose tables, submit; the typed password is
kept only encrypted in the store."""

from __future__ import annotations

import re

import pytest
from adu_core.models import JobStatus
from webutil import Client, World


@pytest.fixture
def operator(clients: dict[str | None, Client]) -> Client:
    return clients["operator"]


def _form(world: World, **extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "connection": "",
        "url": f"duckdb://{world.demo_db}",
        "password": "",
        "target": "web-out",
        "parallel": "2",
        "compression": "zstd",
        "rules": "",
        "validate_data": "y",
        "name": "from the form",
    }
    data.update(extra)
    return data


def test_new_job_page_offers_named_connections_as_references(
    operator: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADU_TEST_WAREHOUSE_PW", "warehouse-secret-pw")
    page = operator.get("/jobs/new").data.decode()
    assert '<option value="demo">@demo' in page and '<option value="warehouse">@warehouse' in page
    assert "warehouse-secret-pw" not in page
    assert 'value="2"' in page  # parallel defaults to ADU_PARALLEL
    assert f"Inside {world.export_root}" in page


def test_discover_partial_lists_tables(operator: Client, world: World) -> None:
    r = operator.post("/jobs/new/discover", _form(world))
    body = r.data.decode()
    assert r.status_code == 200, body
    assert 'value="shop.orders"' in body and 'value="telemetry.sensor readings"' in body
    assert 'name="schema" value="shop"' in body
    assert "data-table-filter" in body


def test_discover_through_a_named_connection(operator: Client, world: World) -> None:
    body = operator.post("/jobs/new/discover", _form(world, url="", connection="demo")).data.decode()
    assert 'value="shop.customers"' in body


def test_discover_errors_are_readable(operator: Client, world: World) -> None:
    r = operator.post("/jobs/new/discover", _form(world, url="nosuch://x/y"))
    assert r.status_code == 400 and b"unknown source scheme" in r.data
    r = operator.post("/jobs/new/discover", _form(world, url="", connection="ghost"))
    assert r.status_code == 400 and b"no named connection" in r.data
    r = operator.post("/jobs/new/discover", _form(world, url="", connection=""))
    assert r.status_code == 400 and b"choose a named connection or type a source URL" in r.data


def test_discover_without_script_renders_the_whole_page(operator: Client, world: World) -> None:
    r = operator.post("/jobs/new", _form(world, action="discover", password="typed-pw-123"))
    body = r.data.decode()
    assert r.status_code == 200 and 'value="shop.orders"' in body and "<h1>New job</h1>" in body
    assert "typed-pw-123" not in body  # never sent back
    assert "Type it again before you submit" in body


def test_submit_queues_a_job_with_the_chosen_tables(operator: Client, world: World) -> None:
    r = operator.post(
        "/jobs/new",
        _form(
            world,
            action="submit",
            table=["shop.orders", "telemetry.sensor readings"],
            schema=[],
            compression="snappy",
            parallel="3",
        ),
    )
    assert r.status_code == 302, r.data
    job_id = re.search(r"/job/([0-9a-f]{32})", r.headers["Location"]).group(1)  # type: ignore[union-attr]
    job = world.store.get_job(job_id)
    assert job.status.value == "queued" and job.created_by == "operator" and job.name == "from the form"
    assert job.spec.selection.tables == ("shop.orders", "telemetry.sensor readings")
    assert job.spec.sink_options == {"compression": "snappy"} and job.spec.parallel == 3
    assert job.target == str(world.export_root / "web-out")
    world.store.delete_job(job_id)


def test_submit_escapes_glob_characters_in_table_names(operator: Client, world: World) -> None:
    r = operator.post("/jobs/new", _form(world, action="submit", table=["s.we[ird]*"]))
    job_id = re.search(r"/job/([0-9a-f]{32})", r.headers["Location"]).group(1)  # type: ignore[union-attr]
    assert world.store.get_job(job_id).spec.selection.tables == ("s.we[[]ird][*]",)
    world.store.delete_job(job_id)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"table": []}, b"choose at least one table"),
        ({"table": ["shop.orders"], "target": "/etc/adu"}, b"must be inside"),
        ({"table": ["shop.orders"], "target": "../../escape"}, b"must be inside"),
        ({"table": ["shop.orders"], "target": ""}, b"give an output directory"),
        ({"table": ["shop.orders"], "parallel": "0"}, b"Check the fields"),
        ({"table": ["shop.orders"], "compression": "brotli"}, b"Check the fields"),
        ({"table": ["shop.orders"], "rules": "/etc/shadow"}, b"rules file must be inside"),
        ({"table": ["shop.orders"], "connection": "demo"}, b"not both"),
    ],
)
def test_submit_rejects_bad_input(operator: Client, world: World, extra: dict[str, object], message: bytes) -> None:
    before = world.store.count_jobs()
    r = operator.post("/jobs/new", _form(world, action="submit", **extra))
    assert r.status_code == 400
    assert message in r.data, r.data.decode()[-1500:]
    assert world.store.count_jobs() == before


def test_typed_password_is_encrypted_and_never_shown(operator: Client, world: World) -> None:
    secret = "Typed-In-The-Form-Pw-42"
    r = operator.post(
        "/jobs/new",
        _form(
            world, action="submit", table=["shop.orders"], url="postgresql://exporter@db.example/prod", password=secret
        ),
    )
    job_id = re.search(r"/job/([0-9a-f]{32})", r.headers["Location"]).group(1)  # type: ignore[union-attr]
    job = world.store.get_job(job_id)
    assert job.has_secret and world.store.job_secret(job_id) == secret
    with world.store.db.read() as conn:
        row = conn.execute("SELECT * FROM jobs WHERE id = :id", {"id": job_id}).one()
        evs = conn.execute("SELECT message FROM events WHERE job_id = :id", {"id": job_id}).scalars()
    assert secret not in row.spec and secret not in row.source
    assert secret.encode() not in bytes(row.secret)
    assert all(secret not in e for e in evs)
    # the job runs (its source cannot be reached: it fails at once, logging the attempt)
    from adu_core.engine import run_job
    from adu_core.errors import ConnectError

    world.store.claim_job("test-worker", job_id=job_id)
    with pytest.raises(ConnectError, match=r"db\.example"):
        run_job(world.store, job_id, settings=world.settings, worker_id="test-worker")
    job = world.store.get_job(job_id)
    assert job.status == JobStatus.FAILED and not job.has_secret
    for url in (f"/job/{job_id}", "/", f"/api/jobs/{job_id}", f"/job/{job_id}/log"):
        assert secret not in operator.get(url).data.decode()
    job_log = world.settings.job_log_path(job_id)
    assert "db.example" in job_log.read_text()  # the log holds the connection attempt ...
    logs = [f for f in world.settings.log_dir.rglob("*") if f.is_file()]
    assert job_log in logs
    for f in logs:
        assert secret not in f.read_text(errors="replace"), f  # ... and never the password
    world.store.delete_job(job_id)


def test_password_inside_the_url_moves_to_the_secret(operator: Client, world: World) -> None:
    r = operator.post(
        "/jobs/new",
        _form(world, action="submit", table=["shop.orders"], url="postgresql://exporter:In-Url-Pw-77@db.example/prod"),
    )
    job_id = re.search(r"/job/([0-9a-f]{32})", r.headers["Location"]).group(1)  # type: ignore[union-attr]
    job = world.store.get_job(job_id)
    # rebuilt by the one URL parser, marked: the worker uses no credential of the server's
    assert job.source == "postgresql://exporter@db.example/prod?adu_no_implicit_credentials=1"
    assert world.store.job_secret(job_id) == "In-Url-Pw-77"
    world.store.delete_job(job_id)


def test_named_connection_job_stores_only_the_name(operator: Client, world: World) -> None:
    r = operator.post("/jobs/new", _form(world, action="submit", url="", connection="demo", schema=["shop"]))
    job_id = re.search(r"/job/([0-9a-f]{32})", r.headers["Location"]).group(1)  # type: ignore[union-attr]
    job = world.store.get_job(job_id)
    assert job.source == "@demo" and not job.has_secret
    assert job.spec.selection.schemas == ("shop",)
    world.store.delete_job(job_id)


def test_a_password_inside_the_url_is_not_sent_back(operator: Client, world: World) -> None:
    url = "postgresql://exporter:Inline-Url-Pw-5@127.0.0.1:1/prod"  # nothing listens: refused at once
    for action in ("discover", "submit"):
        r = operator.post("/jobs/new", _form(world, action=action, url=url, target="/outside/root"))
        body = r.data.decode()
        assert "Inline-Url-Pw-5" not in body
        assert 'value="postgresql://exporter@127.0.0.1:1/prod"' in body
