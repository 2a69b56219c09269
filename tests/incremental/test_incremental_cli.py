"""`adu export --cursor/--after`, `adu verify D1 D2`, `adu jobs show`: the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ADU = [str(Path(sys.executable).with_name("adu"))]


def adu(*args, data_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADU_", "PG"))}
    env.update({"ADU_DATA_DIR": str(data_dir), "ADU_PARALLEL": "2"})
    return subprocess.run([*ADU, *map(str, args)], capture_output=True, text=True, env=env, timeout=180)


def test_cli_full_then_delta_then_chain(pg, tmp_path):
    db = pg.create_database("inccli")
    try:
        db.execute(
            "CREATE TABLE public.t (id int PRIMARY KEY, ts bigint);"
            "INSERT INTO public.t SELECT g, g FROM generate_series(1, 100) g; INSERT INTO public.t VALUES (500, NULL);"
            "CREATE TABLE public.p (id int, ts bigint, region text) PARTITION BY LIST (region);"
            "CREATE TABLE public.p_a PARTITION OF public.p FOR VALUES IN ('a');"
            "CREATE TABLE public.p_b PARTITION OF public.p FOR VALUES IN ('b');"
            "INSERT INTO public.p SELECT g, g, CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END FROM generate_series(1, 60) g"
        )
        data = tmp_path / "data"
        d1, d2 = tmp_path / "d1", tmp_path / "d2"
        res = adu(
            "export", db.dsn, "--out", d1, "--table", "public.t", "--table", "public.p",
            "--cursor", "public.t=ts", "--cursor", "public.p=ts", "--no-validate", data_dir=data,
        )  # fmt: skip
        assert res.returncode == 0, res.stderr
        assert "cursor    public.t: ts: all rows, watermark '100', 101 rows; 1 row(s) with a NULL cursor" in res.stdout
        db.execute(
            "UPDATE public.t SET ts = 200 WHERE id = 3; INSERT INTO public.p VALUES (61, 61, 'a'), (62, 62, 'b')"
        )
        res = adu(
            "export", db.dsn, "--out", d2, "--table", "public.t", "--table", "public.p", "--after", "last",
            "--no-validate", "--json", data_dir=data,
        )  # fmt: skip
        assert res.returncode == 0, res.stderr
        rows = {t["table"]: t["rows"] for t in json.loads(res.stdout)["tables"]}
        assert rows == {"public.t": 1, "public.p": 2}
        res = adu("verify", d2, "--chain", d1, data_dir=data)
        assert res.returncode == 0 and "OK: chain of 2 export(s)" in res.stdout, res.stdout
        job = json.loads(adu("jobs", "list", "--json", data_dir=data).stdout)[0]["id"]
        shown = adu("jobs", "show", job, data_dir=data).stdout
        assert "chain    delta 1 after manifest" in shown and "public.t.ts = '200'" in shown
        doc = json.loads(adu("jobs", "show", job, "--json", data_dir=data).stdout)
        assert doc["chain"]["position"] == 1 and doc["chain"]["watermarks"]["public.p"]["value"] == "62"
        res = adu("export", db.dsn, "--out", tmp_path / "x", "--cursor", "public.t", data_dir=data)
        assert res.returncode == 2 and "schema.table=COLUMN" in res.stderr
    finally:
        db.drop()


def test_a_source_without_cursors_says_so(tmp_path):
    import duckdb

    path = tmp_path / "d.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE t (id INTEGER); INSERT INTO t VALUES (1)")
    con.close()
    res = adu("export", path, "--out", tmp_path / "o", "--cursor", "main.t=id", data_dir=tmp_path / "data")
    assert res.returncode == 2, res.stderr
    assert "does not support cursor columns" in res.stderr
