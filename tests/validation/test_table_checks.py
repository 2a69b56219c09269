"""Whole-table checks over the staged Parquet files: uniqueness across batches and
partitions, row counts, unique_values_eq completeness."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from adu_core.models import ColumnInfo, TableInfo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from validation_kit import batch_of, check_of, people_table, table_validator


def stage(tmp_path: Path, table: TableInfo, partitions: list[dict[str, list[Any]]]) -> list[str]:
    """One Parquet file per partition, as a sink stages them."""
    files = []
    schema = pa.schema([f.with_nullable(True) for f in table.arrow_schema()])
    for i, rows in enumerate(partitions):
        n = len(next(iter(rows.values())))
        arrays = [pa.array(rows.get(f.name, [None] * n), type=f.type) for f in schema]
        path = tmp_path / f"part-{i}.parquet"
        pq.write_table(pa.Table.from_arrays(arrays, schema=schema), path)
        files.append(str(path))
    return files


def test_primary_key_duplicates_across_partitions(tmp_path: Path) -> None:
    table = people_table()
    tv = table_validator(table)
    files = stage(tmp_path, table, [{"id": [1, 2, 3]}, {"id": [3, 4, 1]}, {"id": [1, 5]}])
    result = check_of(_report(tv, files), "primary_key", "id")
    assert result.failed_rows == 5  # three rows hold id 1, two hold id 3
    assert result.samples == [{"key": {"id": 1}, "rows": 3}, {"key": {"id": 3}, "rows": 2}]


def test_no_duplicates_no_failure(tmp_path: Path) -> None:
    table = people_table()
    tv = table_validator(table)
    files = stage(tmp_path, table, [{"id": [1, 2]}, {"id": [3, 4]}])
    assert check_of(_report(tv, files), "primary_key", "id").failed_rows == 0


def test_composite_unique_key_ignores_keys_with_nulls(tmp_path: Path) -> None:
    table = TableInfo(
        "s",
        't"q',
        columns=(ColumnInfo('we"ird a', "integer", pa.int32()), ColumnInfo("b", "text", pa.string())),
        unique_keys=(('we"ird a', "b"),),
    )
    tv = table_validator(table)
    files = stage(
        tmp_path,
        table,
        [{'we"ird a': [1, 1, 2], "b": [None, "x", "y"]}, {'we"ird a': [1, 1, 2], "b": [None, "x", "z"]}],
    )
    result = check_of(_report(tv, files), "unique_key", 'we"ird a,b')
    assert result.failed_rows == 2
    assert result.samples == [{"key": {'we"ird a': 1, "b": "x"}, "rows": 2}]


def test_unique_column_rows_and_unique_values_eq_from_rules(tmp_path: Path, rules_file: Any) -> None:
    path = rules_file(
        """
        tables:
          public.people:
            on_failure: quarantine
            columns:
              email: {unique: true}
              country: {unique_values_eq: [US, GB, FR]}
            rows: {min: 6}
        """
    )
    table = people_table()
    tv = table_validator(table, path)
    files = stage(
        tmp_path,
        table,
        [
            {"id": [1, 2], "email": ["a@x", "b@x"], "country": ["US", None]},
            {"id": [3, 4], "email": ["a@x", None], "country": ["GB", "GB"]},
            {"id": [5], "email": [None], "country": ["US"]},
        ],
    )
    report = _report(tv, files)
    assert report.mode == "quarantine"
    unique = check_of(report, "unique", "email")
    assert (unique.failed_rows, unique.samples) == (2, [{"key": {"email": "a@x"}, "rows": 2}])
    rows = check_of(report, "rows(min=6)", None)
    assert (rows.failed_rows, rows.samples) == (1, [{"rows": 5, "min": 6, "max": None}])
    values = check_of(report, "unique_values_eq(['US', 'GB', 'FR']) missing", "country")
    assert values.failed_rows == 1 and values.samples == [{"missing": "FR"}]
    outside = check_of(report, "unique_values_eq(['US', 'GB', 'FR'])", "country")
    assert outside.failed_rows == 0  # no partial was fed: only the whole-table half ran
    assert not report.passed


def test_rows_max_and_an_empty_table(tmp_path: Path, rules_file: Any) -> None:
    path = rules_file("tables:\n  public.people:\n    rows: {max: 2}\n")
    table = people_table()
    tv = table_validator(table, path)
    files = stage(tmp_path, table, [{"id": [1, 2]}, {"id": [3]}])
    assert check_of(_report(tv, files), "rows(max=2)", None).failed_rows == 1
    empty = _report(tv, [])
    assert check_of(empty, "rows(max=2)", None).failed_rows == 0
    assert check_of(empty, "primary_key", "id").failed_rows == 0


def _report(tv: Any, files: list[str]) -> Any:
    """What the engine does: merge the partials, then add the whole-table checks."""
    report = tv.merge([tv.partial()])
    report.checks.extend(tv.check_table(files))
    return report


# -------------------------------------- the fast path: keys seen strictly increasing


def _feed_and_stage(
    tmp_path: Path, table: TableInfo, partitions: list[list[int]], rules: str | None = None
) -> tuple[Any, list[Any], list[str]]:
    """Each partition through its own worker copy (batches of 2 rows), then staged."""
    coordinator = table_validator(table, rules)
    partials = []
    for ids in partitions:
        worker = table_validator(table, rules)
        for start in range(0, len(ids), 2):
            worker.validate(batch_of(table, {"id": ids[start : start + 2]}))
        partials.append(worker.partial())
    files = stage(tmp_path, table, [{"id": ids} for ids in partitions])
    return coordinator, partials, files


def test_increasing_disjoint_keys_need_no_pass_over_the_files(tmp_path: Path, monkeypatch: Any) -> None:
    from adu_pandera import table_checks

    ran: list[str] = []
    real = table_checks.run

    def spy(specs: Any, files: Any) -> Any:
        ran.extend(s.name for s in specs)
        return real(specs, files)

    monkeypatch.setattr(table_checks, "run", spy)
    table = people_table()
    tv, partials, files = _feed_and_stage(tmp_path, table, [[10, 11, 12, 15], [1, 2, 3], [20]])
    tv.merge(partials)
    assert check_of_list(tv.check_table(files), "primary_key").failed_rows == 0
    assert "primary_key" not in ran


@pytest.mark.parametrize(
    ("partitions", "failed"),
    [
        ([[1, 2, 3], [3, 4]], 2),  # each increasing, ranges touch
        ([[1, 3, 2, 3]], 2),  # not increasing
        ([[1, 2], [5, 6], [2, 9]], 2),  # ranges overlap
    ],
)
def test_duplicates_are_found_when_the_runs_prove_nothing(
    tmp_path: Path, partitions: list[list[int]], failed: int
) -> None:
    tv, partials, files = _feed_and_stage(tmp_path, people_table(), partitions)
    tv.merge(partials)
    assert check_of_list(tv.check_table(files), "primary_key").failed_rows == failed


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(partitions=st.lists(st.lists(st.integers(0, 30), max_size=8), min_size=1, max_size=4), sort=st.booleans())
def test_key_uniqueness_matches_brute_force(tmp_path_factory: Any, partitions: list[list[int]], sort: bool) -> None:
    if sort:
        partitions = [sorted(set(p)) for p in partitions]
    tmp = tmp_path_factory.mktemp("keys")
    tv, partials, files = _feed_and_stage(tmp, people_table(), partitions)
    tv.merge(partials)
    counts = Counter(k for p in partitions for k in p)
    expected = sum(n for n in counts.values() if n > 1)
    assert check_of_list(tv.check_table(files), "primary_key").failed_rows == expected


def check_of_list(results: list[Any], check: str) -> Any:
    found = [r for r in results if r.check == check]
    assert len(found) == 1
    return found[0]
