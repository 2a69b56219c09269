"""Stopping a running `adu export` with Ctrl-C or SIGTERM: the job is recorded cancelled,
the server-side COPY stops, nothing staged is left and no manifest is written."""

import json
import os
import signal
import subprocess
import sys

import pytest
from pgserver import wait_for

ADU = [sys.executable, "-m", "adu_cli.entry"]


@pytest.fixture(scope="module")
def slow_db(pg):
    db = pg.create_database("slow")
    # a view that yields a row a millisecond: the export is still reading when stopped
    db.execute(
        "CREATE FUNCTION slowly(i int) RETURNS int LANGUAGE plpgsql VOLATILE"
        " AS $$ BEGIN PERFORM pg_sleep(0.001); RETURN i; END $$;"
        "CREATE VIEW public.slow AS SELECT slowly(g) AS id, 'row ' || g AS label"
        " FROM generate_series(1, 100000) g"
    )
    return db


def _copies(pg, db) -> int:
    rows = pg.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND query LIKE 'COPY%%' AND state = 'active'",
        (db.name,),
    )
    return rows[0][0]


@pytest.mark.parametrize(
    ("sig", "code", "said"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated (SIGTERM)")]
)
def test_a_stopped_export_is_cancelled_cleanly(pg, slow_db, tmp_path, sig, code, said):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADU_", "PG"))}
    env["ADU_DATA_DIR"] = str(tmp_path / "data")
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [*ADU, "export", slow_db.dsn, "--out", str(out), "--table", "public.slow", "--views", "--no-validate"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for(lambda: _copies(pg, slow_db) > 0, timeout=60), "the export never started its COPY"
        proc.send_signal(sig)
        _stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == code, stderr
    assert stderr.strip().splitlines()[-1] == f"adu: error: {said}"
    assert wait_for(lambda: _copies(pg, slow_db) == 0, timeout=30), "the server-side COPY still runs"
    jobs = json.loads(
        subprocess.run([*ADU, "jobs", "list", "--json"], env=env, capture_output=True, text=True, check=True).stdout
    )
    assert jobs[0]["status"] == "cancelled"
    assert not (out / "manifest.json").exists() and not (out / "public").exists()
    staging = out / ".adu-staging"
    assert not staging.exists() or not any(p.is_file() for p in staging.rglob("*"))
