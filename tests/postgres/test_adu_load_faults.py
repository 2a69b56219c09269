"""``adu load`` under bad input and faults, as a user meets them: a tampered file, a
manifest from a newer ADU, a type the target lacks, a connection lost mid-COPY. Each is
one line with the documented exit code, and the target keeps what it had."""

from __future__ import annotations

import json
import shutil
import threading

import pytest
from adu_core.services import loads
from adu_core.services.context import Actor, Context
from adu_postgres import copyin
from pg_load_helpers import export, row_texts, stage_tables
from test_adu_load import adu_load

ROWS = 20_000
SOURCE_SQL = f"""
CREATE TABLE big (id bigint PRIMARY KEY, t text, n numeric(12,2), ts timestamptz);
INSERT INTO big SELECT g, repeat(md5(g::text), 3), g / 100.0, timestamptz '2020-01-01' + g * interval '1 min'
FROM generate_series(1, {ROWS}) g;
CREATE TABLE hs (id int, h hstore);
INSERT INTO hs VALUES (1, 'a=>1');
"""


@pytest.fixture(scope="module")
def exported(pg, tmp_path_factory):
    db = pg.create_database("lcli")
    db.execute("CREATE EXTENSION hstore", superuser=True)
    db.execute(SOURCE_SQL)
    out = tmp_path_factory.mktemp("lcli") / "export"
    manifest = export(db.dsn, out, ["public.big", "public.hs"])
    try:
        yield db, out, manifest
    finally:
        db.drop()


@pytest.fixture
def target(pg):
    db = pg.create_database("lcli_t")
    try:
        yield db
    finally:
        db.drop()


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.startswith("adu: error:")]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_a_tampered_file_refuses_the_load_naming_the_file(exported, target, tmp_path) -> None:
    _db, out, manifest = exported
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    rel = next(e for e in manifest["tables"] if e["name"] == "big")["files"][0]["path"]
    data = bytearray((copy / rel).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / rel).write_bytes(bytes(data))
    proc = adu_load(copy, target.dsn)
    assert proc.returncode == 1
    line = _one_line(proc.stderr)
    assert rel in line and "does not verify" in line
    assert target.execute("SELECT count(*) FROM pg_class WHERE relname IN ('big', 'hs')") == [(0,)]


def test_a_manifest_from_a_newer_adu_is_refused_with_exit_2(exported, target, tmp_path) -> None:
    _db, out, _manifest = exported
    copy = tmp_path / "newer"
    shutil.copytree(out, copy)
    data = json.loads((copy / "manifest.json").read_text())
    data["format_version"] = 99
    (copy / "manifest.json").write_text(json.dumps(data))
    proc = adu_load(copy, target.dsn)
    assert proc.returncode == 2
    assert "version" in _one_line(proc.stderr)
    assert target.execute("SELECT count(*) FROM pg_class WHERE relname IN ('big', 'hs')") == [(0,)]


def test_a_type_the_target_lacks_fails_that_table_only(exported, target) -> None:
    db, out, _manifest = exported
    proc = adu_load(out, target.dsn, "--json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["status"] == "partial"
    by_name = {t["table"]: t for t in report["tables"]}
    assert by_name["public.big"]["status"] == "succeeded"
    assert by_name["public.hs"]["status"] == "failed"
    message = by_name["public.hs"]["error"]["message"]
    assert "hstore" in message and "\n" not in message
    assert target.execute("SELECT to_regclass('public.hs')") == [(None,)]
    assert row_texts(target.dsn, "public", "big") == row_texts(db.dsn, "public", "big")
    assert stage_tables(target.dsn) == []


def test_a_connection_lost_mid_copy_loads_the_table_again_from_its_start(
    pg, exported, target, adu_settings, monkeypatch
) -> None:
    db, out, _manifest = exported
    killed = threading.Event()
    real_write = copyin.CopyIn.write

    def write_then_lose_the_connection(self, batch):  # the first batch of the first attempt
        real_write(self, batch)
        if not killed.is_set():
            killed.set()
            pid = self.conn.get_backend_pid()
            pg.execute("SELECT pg_terminate_backend(%s)", (pid,))

    monkeypatch.setattr(copyin.CopyIn, "write", write_then_lose_the_connection)
    ctx = Context(adu_settings)
    spec = loads.load_spec(ctx, out, target.dsn, tables=["public.big"], parallel=1)
    result = loads.load(ctx, spec, actor=Actor.local("notebook"))
    assert killed.is_set()
    assert result.status.value == "succeeded", result.error
    assert result.tables[0].rows == ROWS
    # exactly once: no row twice, none missing
    assert row_texts(target.dsn, "public", "big") == row_texts(db.dsn, "public", "big")
    assert stage_tables(target.dsn) == []
    events = [e.message for e in ctx.store.list_events(result.job_id)]
    log = (adu_settings.job_log_path(result.job_id)).read_text()
    assert any("again from its start" in m for m in events) or "again from its start" in log


def test_the_password_is_never_printed_nor_stored(pg, exported, target, adu_settings, tmp_path) -> None:
    _db, out, _manifest = exported
    assert pg.password and pg.password in target.dsn
    ctx = Context(adu_settings)
    spec = loads.load_spec(ctx, out, target.dsn, tables=["public.big"])
    result = loads.load(ctx, spec, actor=Actor.local("notebook"))
    assert result.status.value == "succeeded"
    job = ctx.store.get_job(result.job_id)
    assert pg.password not in job.target and pg.password not in job.spec.to_json()
    assert pg.password not in adu_settings.job_log_path(result.job_id).read_text()
    # through the CLI, a failing load (the table exists) prints no password either
    proc = adu_load(out, target.dsn, "--table", "public.big", store=tmp_path / "store")
    assert proc.returncode == 1
    assert "already exists" in proc.stdout + proc.stderr
    assert pg.password not in proc.stdout + proc.stderr
