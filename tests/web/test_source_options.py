"""Source options from the web: typed into the form or sent to the API, they reach the
job and the discovery; none may make the server read its own files or environment."""

from __future__ import annotations

import base64
import re

import pytest
from adu_core import duck
from flask import Flask
from webutil import PASSWORDS, Client, World


@pytest.fixture
def operator(clients: dict[str | None, Client]) -> Client:
    return clients["operator"]


@pytest.fixture
def db_with_a_view(world: World) -> str:
    path = world.root / "views.duckdb"  # below ADU_WEB_FILE_ROOT
    path.unlink(missing_ok=True)
    con = duck.connect(str(path))
    con.execute("CREATE TABLE t AS SELECT range AS id FROM range(3); CREATE VIEW v_double AS SELECT id * 2 AS d FROM t")
    con.close()
    return f"duckdb://{path}"


def _form(url: str, **extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "connection": "",
        "url": url,
        "password": "",
        "target": "opts-out",
        "parallel": "2",
        "compression": "zstd",
        "rules": "",
        "validate_data": "y",
        "name": "options",
    }
    data.update(extra)
    return data


def test_the_form_discovers_views_when_asked(operator: Client, db_with_a_view: str) -> None:
    body = operator.post("/jobs/new/discover", _form(db_with_a_view)).data.decode()
    assert 'value="main.t"' in body and "v_double" not in body
    body = operator.post("/jobs/new/discover", _form(db_with_a_view, source_options="include_views=true")).data.decode()
    assert 'value="main.v_double"' in body


def test_the_form_records_the_options_in_the_job(operator: Client, world: World, db_with_a_view: str) -> None:
    text = "# asked for by the analysts\ninclude_views = true\n\ninclude_foreign=off\n"
    r = operator.post("/jobs/new", _form(db_with_a_view, action="submit", table=["main.v_double"], source_options=text))
    assert r.status_code == 302, r.data.decode()[-1500:]
    job_id = re.search(r"/job/([0-9a-f]{32})", r.headers["Location"]).group(1)  # type: ignore[union-attr]
    assert world.store.get_job(job_id).spec.source_options == {"include_views": True, "include_foreign": False}
    world.store.delete_job(job_id)
    # an option the source does not declare is refused, naming the ones it takes
    before = world.store.count_jobs()
    r = operator.post(
        "/jobs/new", _form(db_with_a_view, action="submit", table=["main.t"], source_options="infinity=null")
    )
    assert r.status_code == 400
    assert b"unknown DuckDB source option(s): infinity; allowed: include_foreign, include_views" in r.data
    assert world.store.count_jobs() == before


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"source_options": "password_file=/data/adu/secret"}, b"password_file cannot be set from the web"),
        ({"source_options": "PASSWORD_ENV=ADU_SECRET_KEY"}, b"PASSWORD_ENV cannot be set from the web"),
        ({"url": "postgresql://me@db.example/x?password_file=%2Fdata%2Fsecret"}, b"password_file cannot be set"),
        ({"url": "postgresql://me@db.example/x?passfile=/root/.pgpass"}, b"passfile cannot be set"),
        ({"url": "vertica://me@db.example/x?password_env=ADU_SECRET_KEY"}, b"password_env cannot be set"),
        ({"source_options": "no equals sign"}, b"a source option must look like key=value"),
    ],
)
def test_the_form_refuses_options_that_read_the_server(
    operator: Client, world: World, extra: dict[str, object], message: bytes
) -> None:
    before = world.store.count_jobs()
    form = {**_form("postgresql://me@db.example/x", table=["public.t"]), **extra}
    r = operator.post("/jobs/new", {**form, "action": "submit"})
    assert r.status_code == 400 and message in r.data, r.data.decode()[-1500:]
    assert world.store.count_jobs() == before
    r = operator.post("/jobs/new/discover", form)
    assert r.status_code == 400 and message in r.data


def _basic(role: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{role}:{PASSWORDS[role]}".encode()).decode()}


def test_the_api_takes_options_and_refuses_the_same(app: Flask, world: World, db_with_a_view: str) -> None:
    http = app.test_client()
    r = http.post(
        "/api/discover",
        json={"source": db_with_a_view, "source_options": {"include_views": True}},
        headers=_basic("operator"),
    )
    assert r.status_code == 200 and "v_double" in [t["name"] for t in r.get_json()["tables"]]
    before = world.store.count_jobs()
    for body in (
        {"source": "postgresql://me@db.example/x", "target": "x", "source_options": {"password_file": "/etc/shadow"}},
        {"source": "postgresql://me@db.example/x?password_file=/etc/shadow", "target": "x"},
        {"source": "@demo", "target": "x", "source_options": {"password_env": "ADU_SECRET_KEY"}},
    ):
        r = http.post("/api/jobs", json=body, headers=_basic("operator"))
        assert r.status_code == 400 and "cannot be set from the web" in r.get_json()["message"], body
        r = http.post(
            "/api/discover", json={k: v for k, v in body.items() if k != "target"}, headers=_basic("operator")
        )
        assert r.status_code == 400 and "cannot be set from the web" in r.get_json()["message"], body
    assert world.store.count_jobs() == before
