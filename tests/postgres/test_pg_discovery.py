"""Discovery, connection forms (TCP, Unix socket, password sources) and the plugin itself."""

from __future__ import annotations

import pickle

import pyarrow as pa
import pytest
from adu_core.errors import ConnectError
from adu_core.plugin.manager import Plugins
from adu_core.secrets import known_secrets
from adu_postgres import PostgresSource
from pg_helpers import find, open_source, read_table

SCHEMA_SQL = """
CREATE TABLE plain (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, a int, b int, note varchar(30),
                    UNIQUE (a, b));
INSERT INTO plain SELECT g, 'c' || g, g, g, 'n' FROM generate_series(1, 500) g;
CREATE UNLOGGED TABLE scratch (x int);
CREATE TABLE parted (id int, region text) PARTITION BY LIST (region);
CREATE TABLE parted_eu PARTITION OF parted FOR VALUES IN ('eu');
CREATE TABLE parted_us PARTITION OF parted FOR VALUES IN ('us');
CREATE VIEW v_plain AS SELECT id, code FROM plain;
CREATE MATERIALIZED VIEW mv_plain AS SELECT id FROM plain;
CREATE SCHEMA other;
CREATE TABLE other.t (y date);
ANALYZE plain;
"""


def test_registered_as_a_plugin() -> None:
    plugins = Plugins()
    assert plugins.source_class("postgresql://u@h/db") is PostgresSource
    assert plugins.source_class("postgres://u@h/db") is PostgresSource
    assert PostgresSource.name == "postgresql"


def test_discover_kinds_keys_estimates(pg_db) -> None:
    pg_db.execute(SCHEMA_SQL)
    source = open_source(pg_db.dsn)
    tables = source.discover()
    names = [t.qualified_name for t in tables]
    assert names == ["other.t", "public.parted", "public.plain", "public.scratch"]  # leaves not listed
    plain = find(tables, "public.plain")
    assert plain.kind == "table"
    assert plain.primary_key == ("id",)
    assert set(plain.unique_keys) == {("code",), ("a", "b")}
    assert plain.row_estimate == 500
    assert plain.size_bytes and plain.size_bytes > 8192
    assert [(c.name, c.source_type, c.nullable) for c in plain.columns] == [
        ("id", "bigint", False),
        ("code", "text", False),
        ("a", "integer", True),
        ("b", "integer", True),
        ("note", "character varying(30)", True),
    ]
    assert plain.column("note").properties["max_length"] == 30
    assert find(tables, "public.scratch").kind == "unlogged"
    parted = find(tables, "public.parted")
    assert parted.kind == "partitioned"
    assert sorted(leaf["name"] for leaf in parted.properties["leaves"]) == ["parted_eu", "parted_us"]

    with_views = [t.qualified_name for t in source.discover(include_views=True)]
    assert "public.v_plain" in with_views and "public.mv_plain" in with_views
    view = find(source.discover(include_views=True), "public.v_plain")
    assert read_table(source, view).num_rows == 500


def test_a_job_reads_the_columns_of_the_tables_it_selects_only(pg_db, tmp_path) -> None:
    """Planning an export of a few tables of a large catalog describes those tables only
    (a fixed cost of every job otherwise); the selection's answers and errors are the same."""
    from adu_core.errors import UsageError
    from adu_core.models import JobSpec, TableSelection
    from adu_core.planning import plan_tables

    pg_db.execute(SCHEMA_SQL)
    source = open_source(pg_db.dsn)

    def plan(rules=None, **selection):
        spec = JobSpec(source=pg_db.dsn, target=str(tmp_path), selection=TableSelection(**selection), rules=rules)
        described, selected = plan_tables(source, spec)
        return sorted(t.qualified_name for t in described), sorted(t.qualified_name for t in selected)

    try:
        assert plan(tables=("public.plain",)) == (["public.plain"], ["public.plain"])
        assert plan(tables=("public.p*",), exclude=("public.parted",)) == (
            ["public.parted", "public.plain"],
            ["public.plain"],
        )
        assert plan(schemas=("other",)) == (["other.t"], ["other.t"])
        everything = plan()[0]
        assert {"public.plain", "public.scratch", "other.t"} <= set(everything)
        # a rules file is checked against every table of the source
        rules = tmp_path / "rules.yaml"
        rules.write_text("tables:\n  other.t:\n    columns:\n      y: {nullable: true}\n")
        assert plan(rules=str(rules), tables=("public.plain",)) == (everything, ["public.plain"])
        with pytest.raises(UsageError, match=r"table 'public\.nope' does not exist"):
            plan(tables=("public.plain", "public.nope"))
        with pytest.raises(UsageError, match=r"public\.v_plain is a view: add --views"):
            plan(tables=("public.v_plain",))
        with pytest.raises(UsageError, match="no table matches the selection"):
            plan(schemas=("other",), exclude=("other.*",))  # the schema exists: nothing is left of it
    finally:
        source.close()


def test_foreign_tables_only_when_asked(pg_db) -> None:
    pg_db.execute("CREATE EXTENSION file_fdw", superuser=True)
    pg_db.execute(
        "CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;"
        "CREATE FOREIGN TABLE ft (line text) SERVER files OPTIONS (program 'echo hello');"
        f"GRANT SELECT ON ft TO {pg_db.server.role}",
        superuser=True,
    )
    source = open_source(pg_db.dsn)
    assert "public.ft" not in [t.qualified_name for t in source.discover()]
    ft = find(source.discover(include_foreign=True), "public.ft")
    assert ft.kind == "foreign"


def test_ddl_recreates_the_table(pg_db) -> None:
    pg_db.execute(
        "CREATE TYPE colour AS ENUM ('red', 'it''s');"
        "CREATE DOMAIN small AS numeric(5,2);"
        'CREATE TABLE "Odd Table" (id int PRIMARY KEY, c colour, s small NOT NULL, a text[], "we""ird" char(3),'
        " UNIQUE (s, c))"
    )
    table = find(open_source(pg_db.dsn).discover(), "public.Odd Table")
    assert "CREATE TYPE" in table.ddl
    other = pg_db.server.create_database("ddl")
    try:
        other.execute(table.ddl)
        cols = other.execute(
            "SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute"
            ' WHERE attrelid = \'"public"."Odd Table"\'::regclass AND attnum > 0 ORDER BY attnum'
        )
        assert cols == [
            ("id", "integer", True),
            ("c", "colour", False),
            ("s", "numeric(5,2)", True),  # the domain's base type
            ("a", "text[]", False),
            ('we"ird', "character(3)", False),
        ]
    finally:
        other.drop()


def test_info_hides_the_password(pg) -> None:
    source = open_source(pg.dsn)
    info = source.info()
    assert info.kind == "postgresql"
    assert info.server_version and info.server_version[0].isdigit()
    assert pg.password not in info.url and "***" in info.url
    assert pg.password in known_secrets()  # registered so logs mask it


def test_wrong_password_is_a_clean_connect_error(pg) -> None:
    wrong = "Wr0ng-" + pg.password
    with pytest.raises(ConnectError, match="password authentication failed") as err:
        open_source(pg.url(password=wrong)).discover()
    assert wrong not in str(err.value)
    assert pg.password not in str(err.value)


def test_unreachable_server(pg) -> None:
    with pytest.raises(ConnectError, match="cannot connect"):
        open_source("postgresql://u:secretpw@127.0.0.1:1/db?connect_timeout=2").info()


def test_unix_socket(pg) -> None:
    source = open_source(pg.socket_url())
    assert source.info().server_version


def test_password_file_option_and_url_parameter(pg, tmp_path) -> None:
    secret = tmp_path / "pw"
    secret.write_text(pg.password + "\n")
    no_pw = pg.url(password=None)
    assert open_source(no_pw, password_file=str(secret)).info().server_version
    assert open_source(f"{no_pw}?password_file={secret}").info().server_version
    # the file wins over a wrong password in the URL
    assert open_source(pg.url(password="wrong"), password_file=str(secret)).info().server_version


def test_pgpassword_and_pgpass(pg, tmp_path, monkeypatch) -> None:
    no_pw = pg.url(password=None)
    monkeypatch.setenv("PGPASSWORD", pg.password)
    assert open_source(no_pw).info().server_version
    monkeypatch.delenv("PGPASSWORD")
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{pg.port}:*:{pg.role}:{pg.password}\n")
    passfile.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    assert open_source(no_pw).info().server_version


def test_partitions_are_picklable(pg_db) -> None:
    pg_db.execute("CREATE TABLE t (id int, v numeric(10,2), iv interval)")
    source = open_source(pg_db.dsn)
    table = find(source.discover(), "public.t")
    (part,) = source.partitions(table, target=4)  # empty table: one partition
    clone = pickle.loads(pickle.dumps(part))
    assert clone == part
    assert clone.table.arrow_schema() == table.arrow_schema()
    assert table.arrow_schema().field("iv").type == pa.struct(
        [
            pa.field("months", pa.int32(), nullable=False),
            pa.field("days", pa.int32(), nullable=False),
            pa.field("microseconds", pa.int64(), nullable=False),
        ]
    )


def test_ssl_parameters_reach_libpq(pg) -> None:
    if pg.ssl_root_cert is None:
        pytest.skip("the test server has no certificate (no openssl)")
    check = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
    verified = open_source(f"{pg.dsn}?sslmode=verify-full&sslrootcert={pg.ssl_root_cert}")
    assert verified.info().server_version
    with verified._coordinator().cursor() as cur:
        cur.execute(check)
        assert cur.fetchone() == (True,)
    plain = open_source(f"{pg.dsn}?sslmode=disable")
    with plain._coordinator().cursor() as cur:
        cur.execute(check)
        assert cur.fetchone() == (False,)
    with pytest.raises(ConnectError, match=r"certificate|verify|root"):
        open_source(f"{pg.dsn}?sslmode=verify-full&sslrootcert=/nonexistent/root.crt").info()
