"""adu_core.services.exports: verify first, then each table as a pyarrow dataset, a polars
LazyFrame and a DuckDB relation; previews and quarantine files; refusals."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from adu_core.errors import UsageError
from adu_core.plugin.components import FAILED_CHECKS_COLUMN
from adu_core.services.exports import ExportMismatch, browse_export, open_export, read_manifest
from adu_export_kit import export_tables, int_table, make_batches


@pytest.fixture
def export(tmp_path: Path) -> Path:
    t, u = int_table("public", "items"), int_table("Sales", "Q1")
    bad = make_batches(t, 3, start=900)[0]
    bad = bad.append_column(FAILED_CHECKS_COLUMN, pa.array([["price <= 5"]] * 3, pa.list_(pa.string())))
    target = tmp_path / "export"
    export_tables(
        target,
        [(t, [make_batches(t, 1500), make_batches(t, 500, start=1500)]), (u, [make_batches(u, 7)])],
        quarantine={t.qualified_name: [[bad]]},
    )
    return target


def test_each_table_three_ways_after_verifying(export: Path) -> None:
    e = open_export(export)
    assert e.report is not None and e.report.ok
    assert [t.qualified_name for t in e.tables] == ["Sales.Q1", "public.items"]
    assert e.dataset("public.items").count_rows() == 2000
    lazy = e.polars("public.items")
    assert lazy.select("id").collect()["id"].sum() == sum(range(2000))
    rel = e.duckdb("sales.q1")  # names ignore case when unambiguous
    assert rel.aggregate("count(*)").fetchone() == (7,)
    assert e.dataset(1).count_rows() == 2000  # or by position
    q = e.dataset("public.items", quarantine=True).to_table()
    assert q.num_rows == 3 and q.column_names[-1] == FAILED_CHECKS_COLUMN


def test_preview_is_text(export: Path) -> None:
    e = browse_export(export)
    assert e.report is None and e.sealed and not e.signed
    p = e.preview("public.items", limit=3)
    assert p.columns == ("id", "label", "price")
    assert p.rows == (("0", None, "0.00"), ("1", "item 1 ✓", "0.01"), ("2", "item 2 ✓", "0.02"))
    q = e.preview("public.items", quarantine=True, limit=1)
    assert q.rows[0][-1] == "['price <= 5']"


def test_a_tampered_export_is_not_opened(export: Path) -> None:
    victim = export / "public/items/part-00001.parquet"
    data = bytearray(victim.read_bytes())
    data[50] ^= 1
    victim.write_bytes(bytes(data))
    with pytest.raises(ExportMismatch) as caught:
        open_export(export)
    assert "public/items/part-00001.parquet: SHA-256 differs" in str(caught.value)
    assert caught.value.report.exit_code == 1
    browse_export(export)  # browsing does not verify


def test_refusals(export: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"holds no manifest\.json"):
        open_export(tmp_path)
    with pytest.raises(UsageError, match="is not an export"):
        read_manifest(tmp_path)
    e = browse_export(export)
    with pytest.raises(UsageError, match=r"no table 'public\.nope'"):
        e.dataset("public.nope")
    (export / "public/items/part-00000.parquet").unlink()
    with pytest.raises(UsageError, match=r"part-00000\.parquet: missing"):
        e.files("public.items")
    outside = tmp_path / "outside.parquet"
    outside.write_bytes(b"x")
    (export / "public/items/part-00000.parquet").symlink_to(outside)
    with pytest.raises(UsageError, match="outside the export"):
        e.files("public.items")
