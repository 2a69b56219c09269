"""``adu load`` under bad input and faults, as a user meets them: a tampered file, a
manifest from a newer ADU, a type the target lacks, a connection lost mid-COPY. Each is
one line with the documented exit code, and the target keeps what it had."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading

import pytest
from adu_core.services import loads
from adu_core.services.context import Actor, Context
from adu_postgres import copyin
from pg_load_helpers import ADU, export, row_texts, stage_tables
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


def test_a_table_that_failed_in_the_export_is_reported_and_skipped(pg, target, tmp_path) -> None:
    db = pg.create_database("lpartial")
    try:
        db.execute("CREATE TABLE ok (id int PRIMARY KEY, t text); INSERT INTO ok VALUES (1, 'a'), (2, NULL)")
        db.execute(
            "CREATE TABLE secret (id int); INSERT INTO secret VALUES (1); REVOKE ALL ON secret FROM PUBLIC",
            superuser=True,
        )
        out = tmp_path / "partial"
        env = dict(os.environ, ADU_DATA_DIR=str(tmp_path / "export-store"))
        proc = subprocess.run(
            [
                ADU,
                "export",
                db.dsn,
                "--out",
                str(out),
                "--no-validate",
                "--table",
                "public.ok",
                "--table",
                "public.secret",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 1 and (out / "manifest.json").is_file(), proc.stderr  # a partial export
        loaded = adu_load(out, target.dsn, "--json")
        assert loaded.returncode == 1, loaded.stderr
        report = json.loads(loaded.stdout)
        assert report["status"] == "partial"
        by_name = {t["table"]: t for t in report["tables"]}
        assert by_name["public.ok"]["status"] == "succeeded"
        assert by_name["public.secret"]["status"] == "failed"
        assert "failed in the export" in by_name["public.secret"]["error"]["message"]
        assert row_texts(target.dsn, "public", "ok") == row_texts(db.dsn, "public", "ok")
        assert target.execute("SELECT to_regclass('public.secret')") == [(None,)]
    finally:
        db.drop()


def test_a_signed_export_loads_only_with_its_public_key(exported, target, tmp_path) -> None:
    db, _out, _manifest = exported
    env = dict(os.environ, ADU_DATA_DIR=str(tmp_path / "store"))
    keys = tmp_path / "adu"
    subprocess.run([ADU, "keys", "generate", "--out", str(keys)], env=env, check=True, capture_output=True, timeout=60)
    key, pub = tmp_path / "adu.key", tmp_path / "adu.pub"
    out = tmp_path / "signed"
    proc = subprocess.run(
        [ADU, "export", db.dsn, "--out", str(out), "--no-validate", "--table", "public.big", "--sign-key", str(key)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    unchecked = adu_load(out, target.dsn)
    assert unchecked.returncode == 2
    assert "--public-key" in _one_line(unchecked.stderr)
    other = tmp_path / "other"
    subprocess.run([ADU, "keys", "generate", "--out", str(other)], env=env, check=True, capture_output=True, timeout=60)
    wrong = adu_load(out, target.dsn, "--public-key", str(tmp_path / "other.pub"))
    assert wrong.returncode == 1
    assert "manifest.sig" in _one_line(wrong.stderr)
    assert target.execute("SELECT to_regclass('public.big')") == [(None,)]
    assert adu_load(out, target.dsn, "--public-key", str(pub)).returncode == 0
    assert row_texts(target.dsn, "public", "big") == row_texts(db.dsn, "public", "big")


def test_append_into_a_narrower_column_fails_in_one_line_and_changes_nothing(exported, target) -> None:
    _db, out, _manifest = exported
    target.execute(
        "CREATE TABLE big (id bigint PRIMARY KEY, t varchar(5), n numeric(12,2), ts timestamptz);"
        " INSERT INTO big VALUES (-1, 'keep', 1.00, now())"
    )
    before = row_texts(target.dsn, "public", "big")
    proc = adu_load(out, target.dsn, "--table", "public.big", "--if-exists", "append", "--json")
    assert proc.returncode == 1
    (table,) = json.loads(proc.stdout)["tables"]
    assert table["status"] == "failed"
    assert "too long" in table["error"]["message"] and "\n" not in table["error"]["message"]
    assert row_texts(target.dsn, "public", "big") == before
    assert stage_tables(target.dsn) == []


def test_a_table_not_in_the_export_is_one_line_with_exit_2(exported, target) -> None:
    _db, out, _manifest = exported
    proc = adu_load(out, target.dsn, "--table", "public.nope")
    assert proc.returncode == 2
    assert "does not exist in the export" in _one_line(proc.stderr)


def test_no_privilege_to_create_in_the_target_schema_is_one_line_exit_1_target_unchanged(pg, exported, target) -> None:
    _db, out, _manifest = exported
    target.execute(
        "CREATE SCHEMA locked; GRANT USAGE ON SCHEMA locked TO PUBLIC;"
        " CREATE TABLE locked.keep (id int); INSERT INTO locked.keep VALUES (1)",
        superuser=True,
    )
    proc = adu_load(out, target.dsn, "--table", "public.big", "--schema-map", "public=locked")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    (line,) = [x for x in proc.stderr.splitlines() if "permission denied" in x]
    assert line.startswith("reason: ") and "locked.big" in line and "CREATE privilege" in line, line
    assert "LINE 1" not in line and "_adu_stage_" not in line, line  # the server's words, not its SQL
    assert pg.password not in proc.stdout + proc.stderr
    assert target.execute("SELECT relname FROM pg_class WHERE relnamespace = 'locked'::regnamespace") == [("keep",)]
    assert target.execute("SELECT count(*) FROM locked.keep", superuser=True) == [(1,)]
