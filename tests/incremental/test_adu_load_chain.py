"""`adu load` of a chain into PostgreSQL: the base, the deltas merged in order, the same
delta twice a no-op that says so, a delta out of order refused (exit 1), the target equal
to the source (multiset of t::text)."""

from __future__ import annotations

import json
from collections import Counter

from test_incremental_cli import adu


def texts(db, table: str) -> Counter:
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("SET TimeZone = 'UTC'; SET extra_float_digits = 3")
        cur.execute(f"SELECT r::text FROM public.{table} AS r")
        return Counter(row[0] for row in cur.fetchall())


def test_adu_load_applies_a_chain_in_order(pg, tmp_path):
    src, dst = pg.create_database("lsrc"), pg.create_database("ldst")
    try:
        src.execute(
            "CREATE TABLE public.keyed (id int PRIMARY KEY, v text, ts timestamptz NOT NULL);"
            "INSERT INTO public.keyed SELECT g, 'v' || g, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 s'"
            "  FROM generate_series(1, 200) g;"
            "CREATE TABLE public.logged (seq bigint, msg text);"
            "INSERT INTO public.logged SELECT g, 'm' || g FROM generate_series(1, 30) g;"
            "CREATE TABLE public.dims (code text PRIMARY KEY, label text); INSERT INTO public.dims VALUES ('a', 'A')"
        )
        data = tmp_path / "data"
        tables = ["--table", "public.keyed", "--table", "public.logged", "--table", "public.dims"]
        d1, d2, d3 = tmp_path / "d1", tmp_path / "d2", tmp_path / "d3"
        res = adu("export", src.dsn, "--out", d1, *tables, "--cursor", "public.keyed=ts", "--cursor",
                  "public.logged=seq", "--no-validate", data_dir=data)  # fmt: skip
        assert res.returncode == 0, res.stderr
        src.execute(
            "UPDATE public.keyed SET v = 'changed', ts = now() WHERE id % 40 = 0;"
            "INSERT INTO public.keyed VALUES (500, 'new', now()); INSERT INTO public.logged VALUES (31, 'more');"
            "UPDATE public.dims SET label = 'AA'; INSERT INTO public.dims VALUES ('b', 'B')"
        )
        assert adu("export", src.dsn, "--out", d2, *tables, "--after", "last", "--no-validate",
                   data_dir=data).returncode == 0  # fmt: skip
        assert adu("export", src.dsn, "--out", d3, *tables, "--after", "last", "--no-validate",
                   data_dir=data).returncode == 0  # fmt: skip

        early = adu("load", d2, dst.dsn, data_dir=data)
        assert early.returncode == 1 and "holds no export" in early.stdout + early.stderr, early.stdout + early.stderr
        res = adu("load", d1, dst.dsn, data_dir=data)
        assert res.returncode == 0, res.stdout + res.stderr
        assert "chain: a full export of" in res.stdout
        skipped = adu("load", d3, dst.dsn, data_dir=data)  # d2 is missing in between
        assert skipped.returncode == 1 and "refused: this delta continues manifest" in skipped.stdout + skipped.stderr
        res = adu("load", d2, dst.dsn, "--json", data_dir=data)
        assert res.returncode == 0, res.stdout + res.stderr
        doc = json.loads(res.stdout)
        assert any(n.startswith("chain: delta 1 after manifest") for n in doc["notes"])
        for t in ("keyed", "logged", "dims"):
            assert texts(dst, t) == texts(src, t), t
        again = adu("load", d2, dst.dsn, data_dir=data)
        assert again.returncode == 0 and "is already the last one applied" in again.stdout, again.stdout
        for t in ("keyed", "logged", "dims"):
            assert texts(dst, t) == texts(src, t), t
        res = adu("load", d3, dst.dsn, data_dir=data)  # the empty delta: a valid link
        assert res.returncode == 0 and "chain: delta 2 after manifest" in res.stdout, res.stdout + res.stderr
        shown = adu("jobs", "show", json.loads(adu("jobs", "list", "--json", data_dir=data).stdout)[0]["id"],
                    data_dir=data).stdout  # fmt: skip
        assert "chain: delta 2 after manifest" in shown
    finally:
        src.drop()
        dst.drop()
