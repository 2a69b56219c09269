"""End to end through the engine: the DuckDB demo source, a rules file, the Parquet sink.

Quarantine routes the breaking rows to ``_quarantine`` with the checks they broke (and
good + quarantined = source rows), fail publishes nothing of the table, warn publishes
everything and keeps the report; whole-table checks (uniqueness) report but cannot
quarantine.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from adu_core.engine import submit_and_run
from adu_core.errors import UsageError
from adu_core.models import JobSpec, JobStatus, TableSelection, TableStatus
from adu_duckdb.demo import make_demo_database

EMAIL = r"^user[0-9]*[13579]@example\.org$"  # odd-numbered users only


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: Any) -> str:
    path = str(tmp_path_factory.mktemp("vdemo") / "demo.duckdb")
    make_demo_database(path)
    return path


def _source_count(db: str, sql: str) -> int:
    con = duckdb.connect(db, read_only=True)
    try:
        row = con.execute(sql).fetchone()
        assert row is not None
        return int(row[0])
    finally:
        con.close()


def _read_dir(path: Path) -> Any:
    files = sorted(path.glob("*.parquet"))
    if not files:
        return None
    import pyarrow as pa

    return pa.concat_tables([pq.read_table(f) for f in files])


def _run(db: str, out: Path, rules: str, tables: tuple[str, ...], store: Any, settings: Any) -> Any:
    spec = JobSpec(
        source=f"duckdb://{db}",
        target=str(out),
        rules=rules,
        parallel=2,
        selection=TableSelection(tables=tables),
    )
    # not fork: this pytest process has run polars (its thread pool) in other tests, and a
    # forked child of a multithreaded parent can deadlock in polars
    return submit_and_run(store, spec, settings=settings, mp_start="forkserver")


def test_quarantine_mode_end_to_end(
    demo_db: str, tmp_path: Path, rules_file: Any, adu_store: Any, adu_settings: Any
) -> None:
    rules = rules_file(
        f"""
        tables:
          shop.customers:
            on_failure: quarantine
            columns:
              age: {{le: 60}}
              email: {{str_matches: '{EMAIL}'}}
              country: {{isin: [US, GB, DE]}}
            rows: {{min: 1}}
        """
    )
    out = tmp_path / "out"
    result = _run(demo_db, out, rules, ("shop.customers",), adu_store, adu_settings)
    assert result.status == JobStatus.SUCCEEDED, result.tables[0].error
    table = result.tables[0]
    source_rows = _source_count(demo_db, "SELECT count(*) FROM shop.customers")
    bad_sql = (
        "SELECT count(*) FROM shop.customers WHERE coalesce(age > 60, false) "
        f"OR coalesce(NOT regexp_matches(email, '{EMAIL}'), false) OR country NOT IN ('US', 'GB', 'DE')"
    )
    expected_bad = _source_count(demo_db, bad_sql)
    assert 0 < expected_bad < source_rows

    good = _read_dir(out / "shop" / "customers")
    bad = _read_dir(out / "_quarantine" / "shop" / "customers")
    assert good.num_rows + bad.num_rows == source_rows
    assert bad.num_rows == expected_bad
    assert table.rows == good.num_rows
    assert set(good.column("id").to_pylist()).isdisjoint(bad.column("id").to_pylist())
    # published rows pass every check; quarantined rows say which they broke
    assert all(a is None or a <= 60 for a in good.column("age").to_pylist())
    assert not {"FR"} & set(good.column("country").to_pylist())
    for row in bad.select(["age", "email", "country", "_adu_failed_checks"]).to_pylist():
        expected = []
        if row["age"] is not None and row["age"] > 60:
            expected.append("age:le(60)")
        if row["email"] is not None and not re.search(EMAIL, row["email"]):
            expected.append(f"email:str_matches('{EMAIL}')")
        if row["country"] not in ("US", "GB", "DE"):
            expected.append("country:isin(['US', 'GB', 'DE'])")
        assert row["_adu_failed_checks"] == expected

    report = table.validation
    assert report.mode == "quarantine"
    assert report.failed_rows == report.quarantined_rows == expected_bad
    by_check = {(c.column, c.check): c for c in report.checks}
    assert by_check[("country", "isin(['US', 'GB', 'DE'])")].failed_rows == _source_count(
        demo_db, "SELECT count(*) FROM shop.customers WHERE country = 'FR'"
    )
    assert by_check[("id", "primary_key")].failed_rows == 0
    assert by_check[(None, "rows(min=1)")].failed_rows == 0
    assert len(by_check[("age", "le(60)")].samples) == 20
    # the manifest tells the far side what was checked
    manifest = json.loads((out / "manifest.json").read_text())
    entry = next(t for t in manifest["tables"] if t["name"] == "customers")
    assert entry["validation"]["quarantined_rows"] == expected_bad


def test_fail_mode_publishes_nothing_of_the_table(
    demo_db: str, tmp_path: Path, rules_file: Any, adu_store: Any, adu_settings: Any
) -> None:
    rules = rules_file(
        """
        tables:
          shop.orders:
            columns:
              status: {isin: [new, paid, shipped]}
        """
    )
    out = tmp_path / "out"
    result = _run(demo_db, out, rules, ("shop.orders", "shop.products"), adu_store, adu_settings)
    by = {t.qualified_name: t for t in result.tables}
    assert by["shop.orders"].status == TableStatus.FAILED
    returned = _source_count(demo_db, "SELECT count(*) FROM shop.orders WHERE status = 'returned'")
    assert returned > 0
    assert (
        by["shop.orders"].error.message
        == f"validation failed: {returned} row(s) broke isin(['new', 'paid', 'shipped'])"
    )
    assert by["shop.orders"].validation.failed_rows == _source_count(
        demo_db, "SELECT count(*) FROM shop.orders WHERE status = 'returned'"
    )
    assert by["shop.products"].status == TableStatus.SUCCEEDED
    assert result.status == JobStatus.PARTIAL
    assert not (out / "shop" / "orders").exists() or not any((out / "shop" / "orders").iterdir())


def test_warn_mode_publishes_everything_and_reports_duplicates(
    demo_db: str, tmp_path: Path, rules_file: Any, adu_store: Any, adu_settings: Any
) -> None:
    rules = rules_file(
        """
        tables:
          shop.orders:
            on_failure: warn
            columns:
              total: {lt: 40000}
              customer_id: {unique: true}
        """
    )
    out = tmp_path / "out"
    result = _run(demo_db, out, rules, ("shop.orders",), adu_store, adu_settings)
    table = result.tables[0]
    assert table.status == TableStatus.SUCCEEDED
    source_rows = _source_count(demo_db, "SELECT count(*) FROM shop.orders")
    assert _read_dir(out / "shop" / "orders").num_rows == source_rows
    assert not (out / "_quarantine").exists()
    by_check = {(c.column, c.check): c for c in table.validation.checks}
    assert by_check[("total", "lt(40000)")].failed_rows == _source_count(
        demo_db, "SELECT count(*) FROM shop.orders WHERE total >= 40000"
    )
    dup = by_check[("customer_id", "unique")]
    assert dup.failed_rows == _source_count(
        demo_db,
        "SELECT coalesce(sum(n), 0) FROM (SELECT count(*) n FROM shop.orders GROUP BY customer_id HAVING n > 1)",
    )
    assert dup.samples[0]["rows"] > 1


def test_a_bad_rules_file_stops_the_job_before_it_starts(
    demo_db: str, tmp_path: Path, rules_file: Any, adu_store: Any, adu_settings: Any
) -> None:
    rules = rules_file("tables:\n  shop.customers:\n    columns:\n      agee: {ge: 0}\n")
    out = tmp_path / "out"
    with pytest.raises(UsageError, match=r"rules\.yaml:4: unknown column 'agee'"):
        _run(demo_db, out, rules, ("shop.customers",), adu_store, adu_settings)
    assert not (out / "shop").exists()


MODEL = """
import pandera.polars as pa
import polars as pl


class Customers(pa.DataFrameModel):
    age: pl.Int32 = pa.Field(le=60, nullable=True)

    @pa.dataframe_check
    def gb_customers_have_email(cls, data) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("country") != "GB") | pl.col("email").is_not_null())

    class Config:
        name = "shop.customers"
        metadata = {"adu": {"on_failure": "quarantine"}}
"""


def test_a_dataframe_model_through_the_engine(demo_db: str, tmp_path: Path, adu_store: Any, adu_settings: Any) -> None:
    model = tmp_path / "customer_rules.py"
    model.write_text(MODEL)
    out = tmp_path / "out"
    result = _run(demo_db, out, f"{model}:Customers", ("shop.customers", "shop.products"), adu_store, adu_settings)
    assert result.status == JobStatus.SUCCEEDED, [t.error for t in result.tables]
    by = {t.qualified_name: t for t in result.tables}
    expected = _source_count(
        demo_db,
        "SELECT count(*) FROM shop.customers WHERE coalesce(age > 60, false) OR (country = 'GB' AND email IS NULL)",
    )
    assert expected > 0
    report = by["shop.customers"].validation
    assert report.mode == "quarantine" and report.quarantined_rows == expected
    bad = _read_dir(out / "_quarantine" / "shop" / "customers")
    assert bad.num_rows == expected
    assert {r for rs in bad.column("_adu_failed_checks").to_pylist() for r in rs} == {
        "age:less_than_or_equal_to(60)",
        "shop.customers:gb_customers_have_email",
    }
    # the model is bound to shop.customers: products only get the inferred checks, in fail mode
    assert by["shop.products"].validation.mode == "fail"
