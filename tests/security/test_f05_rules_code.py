"""Finding 5: ``rules: module:attr`` from the web imported any module on the server (a
file in the working directory was executed; ``flask.__main__:x`` killed the embedded
worker, and /healthz still said 200). Now the web takes rules files only (confined), a
model only from the admin's allow-list; whatever a validator raises fails its job, never
the worker, and a dead embedded worker fails /healthz until it is restarted."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from adu_core.models import JobStatus
from adu_core.services import Context, workers
from adu_duckdb.demo import make_demo_database
from adu_web import create_app
from flask import Flask
from seckit import Client, SecWorld, build_world


@pytest.fixture
def planted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A module in the server's working directory that leaves a mark when imported."""
    marker = tmp_path / "imported.txt"
    (tmp_path / "planted_rules.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\nModel = None\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return marker


@pytest.mark.parametrize("rules", ["planted_rules:Model", "flask.__main__:x", "os:system", "planted_rules.py:Model"])
def test_models_are_refused_from_the_web(world: SecWorld, operator: Client, planted: Path, rules: str) -> None:
    demo = world.files / "demo.duckdb"
    make_demo_database(str(demo))
    r = operator.api("POST", "/api/jobs", {"source": f"duckdb://{demo}", "target": "r", "rules": rules})
    assert r.status_code == 400, r.data
    assert "ADU_WEB_RULE_MODELS" in r.get_json()["message"]
    assert not planted.exists()


def test_rules_files_are_confined(world: SecWorld, operator: Client, tmp_path: Path) -> None:
    demo = world.files / "demo.duckdb"
    make_demo_database(str(demo))
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("tables: {}\n")
    for rules in (str(outside), "/etc/passwd", "../../elsewhere.yaml"):
        r = operator.api("POST", "/api/jobs", {"source": f"duckdb://{demo}", "target": "r", "rules": rules})
        assert r.status_code == 400 and "must be inside" in r.get_json()["message"], rules
    inside = world.settings.data_dir / "rules" / "ok.yaml"
    inside.parent.mkdir(parents=True, exist_ok=True)
    inside.write_text("tables: {}\n")
    r = operator.api("POST", "/api/jobs", {"source": f"duckdb://{demo}", "target": "r", "rules": str(inside)})
    assert r.status_code == 201, r.data


def _wait(ctx: Context, job_id: str) -> JobStatus:
    for _ in range(600):
        status = ctx.store.get_job(job_id).status
        if status.finished:
            return status
        time.sleep(0.1)
    raise AssertionError("the job never finished")


def test_an_allowed_model_that_exits_fails_its_job_not_the_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "exiting_rules.py").write_text("raise SystemExit(3)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    w = build_world(tmp_path / "w", ADU_WEB_RULE_MODELS="exiting_rules:Model")
    ctx = Context(w.settings, store=w.store)
    app: Flask = create_app(w.settings, ctx)
    pool = workers.start_embedded(ctx, 1)
    try:
        demo = w.files / "demo.duckdb"
        make_demo_database(str(demo))
        op = Client(app, "operator")
        r = op.api("POST", "/api/jobs", {"source": f"duckdb://{demo}", "target": "x", "rules": "exiting_rules:Model"})
        assert r.status_code == 201, r.data
        assert _wait(ctx, r.get_json()["id"]) == JobStatus.FAILED
        assert pool.alive() == 1
        assert app.test_client().get("/healthz").status_code == 200
        # the next job still runs
        r = op.api("POST", "/api/jobs", {"source": f"duckdb://{demo}", "target": "y"})
        assert _wait(ctx, r.get_json()["id"]) == JobStatus.SUCCEEDED
    finally:
        workers.stop_embedded(ctx)
        w.store.dispose()


def test_a_dead_embedded_worker_fails_healthz_until_restarted(tmp_path: Path) -> None:
    w = build_world(tmp_path)
    ctx = Context(w.settings, store=w.store)
    app: Flask = create_app(w.settings, ctx)
    pool = workers.pool(ctx, 1, name="adu-embedded").start()
    ctx.embedded = pool
    try:
        http = app.test_client()
        assert http.get("/healthz").status_code == 200
        pool.stop.set()  # the worker thread ends, as a dead one would
        for t in pool.threads:
            t.join(timeout=30)
        assert http.get("/healthz").status_code == 503
        pool.stop.clear()
        pool.supervise()  # what the supervisor thread does every second
        assert http.get("/healthz").status_code == 200 and pool.restarts == 1
    finally:
        pool.stop.set()
        workers.stop_embedded(ctx)
        w.store.dispose()
