"""``adu load`` end to end, through the real CLI: PostgreSQL -> adu export -> adu load ->
a second database; every row's ``t::text`` the same on both sides; the job recorded."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from pg_load_helpers import ADU, row_texts, stage_tables
from test_pg_load_roundtrip import TABLES, money_locale, target, zoo_export  # noqa: F401 - fixtures

#: the tables exported exactly (zoo_inf is exported with infinity=null)
EXACT = tuple(t for t in TABLES if t != "public.zoo_inf")


def adu_load(out: Path, dsn: str, *args: str, store: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ADU_DATA_DIR=str(store or out.parent / "load-store"))
    return subprocess.run([ADU, "load", str(out), dsn, *args], env=env, capture_output=True, text=True, timeout=300)


def test_adu_load_round_trips_the_zoo_and_records_a_load_job(zoo_export, target) -> None:  # noqa: F811
    db, out, _manifest, _discovered = zoo_export
    proc = adu_load(out, target.dsn, "--json", "--parallel", "3")
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["status"] == "succeeded"
    assert {t["table"] for t in report["tables"]} == set(TABLES)
    for qn in EXACT:
        schema, name = qn.split(".")
        assert row_texts(target.dsn, schema, name) == row_texts(db.dsn, schema, name), qn
    # zoo_inf was exported with infinity=null: exactly what was written comes back
    assert sorted(row_texts(target.dsn, "public", "zoo_inf")) == [
        "(1,,,)",
        "(2,,,)",
        '(3,2020-02-29,,"2020-02-29 12:00:00+00")',
    ]
    assert stage_tables(target.dsn) == []
    # the job is in the store, of kind load, with the target's tables
    env = dict(os.environ, ADU_DATA_DIR=str(out.parent / "load-store"))
    shown = subprocess.run(
        [ADU, "jobs", "show", report["job_id"], "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    job = json.loads(shown.stdout)
    assert job["job"]["kind"] == "load" and job["job"]["spec"]["kind"] == "load"
    assert {t["schema"] + "." + t["name"] for t in job["tables"]} == set(TABLES)
    assert all(t["status"] == "succeeded" for t in job["tables"])
    # the same load again: the tables exist (--if-exists fail is the default): exit 1,
    # one line, target unchanged
    before = {qn: row_texts(target.dsn, *qn.split(".")) for qn in TABLES}
    again = adu_load(out, target.dsn)
    assert again.returncode == 1, again.stderr
    assert "already exists on the target" in again.stdout + again.stderr
    assert {qn: row_texts(target.dsn, *qn.split(".")) for qn in TABLES} == before
    # replace swaps them in; append doubles exactly the one table asked for
    assert adu_load(out, target.dsn, "--if-exists", "replace").returncode == 0
    assert {qn: row_texts(target.dsn, *qn.split(".")) for qn in TABLES} == before
    appended = adu_load(out, target.dsn, "--if-exists", "append", "--table", "public.events")
    assert appended.returncode == 0, appended.stderr
    doubled = before["public.events"] + before["public.events"]
    assert row_texts(target.dsn, "public", "events") == doubled
    assert stage_tables(target.dsn) == []


def test_adu_load_maps_schemas_and_never_prints_the_password(zoo_export, target) -> None:  # noqa: F811
    db, out, _manifest, _discovered = zoo_export
    proc = adu_load(out, target.dsn, "--table", "public.zoo", "--schema-map", "public=elsewhere")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert row_texts(target.dsn, "elsewhere", "zoo") == row_texts(db.dsn, "public", "zoo")
    assert target.execute("SELECT to_regclass('public.zoo')") == [(None,)]


def test_adu_load_bad_input_is_one_line_with_exit_2(tmp_path, target) -> None:  # noqa: F811
    empty = tmp_path / "nothing"
    empty.mkdir()
    proc = adu_load(empty, target.dsn)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "manifest" in proc.stderr


def test_adu_load_restores_what_the_defaults_and_each_profile_wrote(pg, tmp_path) -> None:
    """±infinity (extreme values), NaN and a far year (text fallbacks), a table without
    columns (its placeholder dropped) and case-colliding names (suffixed by the portable
    profile) come back exactly through ``adu export`` and ``adu load``, in both profiles; uuid
    (and a domain over it) as the portable profile's 16 bytes and as text (``uuid=text``)."""
    from pg_load_helpers import export

    src = pg.create_database("lprof")
    try:
        src.execute(
            "CREATE DOMAIN uid AS uuid CHECK (VALUE <> '00000000-0000-0000-0000-000000000001');"
            'CREATE TABLE edge (id int PRIMARY KEY, d date, ts timestamp, n numeric(8,3), u uuid, t time, "A" int,'
            " a text, w numeric(60,4), du uid);"
            "INSERT INTO edge VALUES (1, 'infinity', '294276-12-31 23:59:59.999999', 'NaN',"
            " 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '24:00:00', 1, 'x', 12345678901234567890123456789.1234,"
            " 'ffffffff-0000-4000-8000-00000000000f'),"
            " (2, '-infinity', '-infinity', 1.5, NULL, '00:00:00', NULL, NULL, NULL, NULL),"
            " (3, NULL, NULL, NULL, '00000000-0000-0000-0000-000000000000', NULL, NULL, NULL, NULL,"
            " '00000000-0000-0000-0000-000000000000');"
            "CREATE TABLE nocols (); INSERT INTO nocols DEFAULT VALUES; INSERT INTO nocols DEFAULT VALUES;"
        )
        for profile, options in (("portable", ()), ("portable", ("uuid=text",)), ("exact", ())):
            label = f"{profile}_{'_'.join(o.replace('=', '_') for o in options)}".rstrip("_")
            dst = pg.create_database(f"lprof_{label}")
            try:
                out = tmp_path / label / "export"
                manifest = export(src.dsn, out, ("public.edge", "public.nocols"), *options, profile=profile)
                assert manifest["profile"] == profile
                (edge,) = [t for t in manifest["tables"] if t["name"] == "edge"]
                u_type = {c["name"]: c["arrow_type"] for c in edge["columns"]}
                bytes_type = {"portable": "fixed_size_binary[16]", "exact": "extension<arrow.uuid>"}[profile]
                want = "string" if options else bytes_type
                assert (u_type["u"], u_type["du"]) == (want, want)
                proc = adu_load(out, dst.dsn, "--json")
                assert proc.returncode == 0, proc.stderr[-2000:]
                for name in ("edge", "nocols"):
                    assert row_texts(dst.dsn, "public", name) == row_texts(src.dsn, "public", name), (profile, name)
                q = "SELECT attname FROM pg_attribute WHERE attrelid = 'public.edge'::regclass AND attnum > 0"
                assert {r[0] for r in dst.execute(q)} == {"id", "d", "ts", "n", "u", "t", "A", "a", "w", "du"}
                assert dst.execute("SELECT count(*) FROM nocols") == [(2,)]
            finally:
                dst.drop()
    finally:
        src.drop()


def test_tables_of_a_new_schema_load_in_parallel_with_their_shared_types(pg, tmp_path) -> None:
    """Eight tables of one schema the target lacks, sharing an enum and a domain it lacks
    too, loaded four at a time: each table's preparation creates the schema and the types
    if they are missing, and two doing so at once used to collide (the second failed on
    pg_namespace's unique key: ``IF NOT EXISTS`` does not see an uncommitted schema)."""
    from pg_load_helpers import export

    src = pg.create_database("lpar")
    dst = pg.create_database("lpar_t")
    try:
        names = [f"t{i}" for i in range(8)]
        src.execute(
            "CREATE SCHEMA fresh; CREATE TYPE fresh.mood AS ENUM ('sad', 'ok', 'happy');"
            " CREATE DOMAIN fresh.pos AS int CHECK (VALUE > 0);"
            + "".join(
                f"CREATE TABLE fresh.{n} (id int PRIMARY KEY, m fresh.mood, p fresh.pos);"
                f" INSERT INTO fresh.{n} SELECT g, (ARRAY['sad','ok','happy']::fresh.mood[])[1 + g % 3], g"
                f" FROM generate_series(1, 50) g;"
                for n in names
            )
        )
        out = tmp_path / "export"
        export(src.dsn, out, [f"fresh.{n}" for n in names])
        proc = adu_load(out, dst.dsn, "--parallel", "4", "--json")
        assert proc.returncode == 0, proc.stderr[-2000:]
        for n in names:
            assert row_texts(dst.dsn, "fresh", n) == row_texts(src.dsn, "fresh", n), n
        assert dst.execute("SELECT count(*) FROM pg_type WHERE typname IN ('mood', 'pos')") == [(2,)]
    finally:
        dst.drop()
        src.drop()
