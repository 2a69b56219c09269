"""Key uniqueness on real PostgreSQL exports: a bigint primary key whose rows were updated
(so a ctid-ordered read does not see it increasing) is proven unique without the DuckDB
pass, and a duplicated key the source does not forbid is still caught."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adu_core.engine import submit_and_run
from adu_core.models import JobSpec, JobStatus, TableSelection, TableStatus
from adu_pandera import table_checks

ROWS = 60_000


def _export(pg: Any, db: Any, store: Any, out: Path, table: str, rules: str | None = None) -> Any:
    spec = JobSpec(
        source=db.dsn,
        target=str(out),
        selection=TableSelection(tables=(table,)),
        parallel=2,
        source_options={"partition_mb": 1},  # several ctid partitions
        rules=rules,
    )
    return submit_and_run(store, spec, password=pg.password, executor="thread")


def _spy(monkeypatch: Any) -> list[str]:
    ran: list[str] = []
    real = table_checks.run

    def spy(specs: Any, files: Any) -> Any:
        ran.extend(s.name for s in specs)
        return real(specs, files)

    monkeypatch.setattr(table_checks, "run", spy)
    return ran


def test_updated_bigint_primary_key_is_proven_without_duckdb(pg, pg_db, adu_store, tmp_path, monkeypatch) -> None:
    pg_db.execute(
        "CREATE TABLE churned (id bigint PRIMARY KEY, pad text NOT NULL);"
        f"INSERT INTO churned SELECT g, repeat('x', 40) FROM generate_series(1, {ROWS}) g;"
        "UPDATE churned SET pad = pad WHERE id % 50 = 7;"  # these rows move to the end of the heap
    )
    ran = _spy(monkeypatch)
    result = _export(pg, pg_db, adu_store, tmp_path / "out", "public.churned")
    assert result.status == JobStatus.SUCCEEDED, [t.error for t in result.tables]
    (table,) = result.tables
    assert table.rows == ROWS
    checks = {c.check: c for c in table.validation.checks}
    assert checks["primary_key"].failed_rows == 0
    assert "primary_key" not in ran  # decided by the presence map, not DuckDB


def test_a_duplicate_the_source_allows_is_caught(pg, pg_db, adu_store, tmp_path, monkeypatch) -> None:
    pg_db.execute(
        "CREATE TABLE dupes (code bigint NOT NULL, pad text NOT NULL);"
        f"INSERT INTO dupes SELECT g, repeat('y', 40) FROM generate_series(1, {ROWS}) g;"
        "UPDATE dupes SET pad = pad WHERE code % 50 = 7;"
        "INSERT INTO dupes VALUES (4242, 'again'), (4242, 'and again'), (17, 'twice');"
    )
    rules = tmp_path / "rules.yaml"
    rules.write_text("tables:\n  public.dupes:\n    columns:\n      code: {unique: true}\n")
    ran = _spy(monkeypatch)
    result = _export(pg, pg_db, adu_store, tmp_path / "out", "public.dupes", str(rules))
    (table,) = result.tables
    assert table.status == TableStatus.FAILED
    (check,) = [c for c in table.validation.checks if c.check == "unique" and c.column == "code"]
    assert check.failed_rows == 5  # three rows hold 4242, two hold 17
    assert check.samples == [{"key": {"code": 17}, "rows": 2}, {"key": {"code": 4242}, "rows": 3}]
    assert "unique" in ran  # found by the presence map, reported by the exact check
