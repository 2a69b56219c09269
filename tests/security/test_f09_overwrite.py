"""Finding 9: ``overwrite`` emptied a directory that merely held some ``manifest.json``
(plus anyone's files), and one operator overwrote another's export. Now it replaces only
an export a job of this server wrote, submitted by the same user (or any, for an admin)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from adu_core.engine import run_job
from adu_core.errors import UsageError
from adu_core.models import JobSpec, JobStatus
from adu_duckdb.demo import make_demo_database
from flask import Flask
from seckit import PASSWORDS, Client, SecWorld, build_world


def _demo(world: SecWorld) -> str:
    demo = world.files / "demo.duckdb"
    if not demo.exists():
        make_demo_database(str(demo))
    return f"duckdb://{demo}"


def _run(world: SecWorld, job_id: str) -> JobStatus:
    world.store.claim_job("w", job_id=job_id)
    return run_job(world.store, job_id, settings=world.settings, executor="thread").status


def test_a_planted_manifest_is_not_an_export(world: SecWorld, operator: Client) -> None:
    target = world.root / "exports" / "precious"
    target.mkdir(parents=True)
    (target / "manifest.json").write_text(json.dumps({"job_id": "0" * 32, "tables": []}))
    (target / "thesis.tex").write_text("years of work")
    r = operator.api("POST", "/api/jobs", {"source": _demo(world), "target": "precious", "overwrite": True})
    assert r.status_code == 400, r.data
    assert (target / "thesis.tex").read_text() == "years of work"


def test_the_worker_refuses_too(tmp_path: Path) -> None:
    """Without ADU_EXPORT_ROOT and from the CLI: the engine checks the manifest's job."""
    w = build_world(tmp_path)
    try:
        target = tmp_path / "elsewhere"
        target.mkdir()
        (target / "manifest.json").write_text(json.dumps({"job_id": "f" * 32}))
        (target / "notes.txt").write_text("keep me")
        job_id = w.store.create_job(JobSpec(source=_demo(w), target=str(target), overwrite=True), created_by="cli")
        with pytest.raises(UsageError, match="not written by a job of this store"):
            _run(w, job_id)
        assert (target / "notes.txt").read_text() == "keep me"
    finally:
        w.store.dispose()


def test_only_the_owner_or_an_admin_overwrites(world: SecWorld, app: Flask, operator: Client) -> None:
    world.store.accounts.add("other", "other-password-1", "operator")
    r = operator.api("POST", "/api/jobs", {"source": _demo(world), "target": "mine"})
    assert r.status_code == 201
    assert _run(world, r.get_json()["id"]) == JobStatus.SUCCEEDED
    other = Client(app, "other", "other-password-1")
    r = other.api("POST", "/api/jobs", {"source": _demo(world), "target": "mine", "overwrite": True})
    assert r.status_code == 400 and "belongs to operator" in r.get_json()["message"]
    # the owner may, and so may an admin
    r = operator.api("POST", "/api/jobs", {"source": _demo(world), "target": "mine", "overwrite": True})
    assert r.status_code == 201
    assert _run(world, r.get_json()["id"]) == JobStatus.SUCCEEDED
    admin = Client(app, "admin", PASSWORDS["admin"])
    r = admin.api("POST", "/api/jobs", {"source": _demo(world), "target": "mine", "overwrite": True})
    assert r.status_code == 201
    assert _run(world, r.get_json()["id"]) == JobStatus.SUCCEEDED
