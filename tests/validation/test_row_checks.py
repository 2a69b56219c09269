"""Each check kind, fed batch by batch to the table validator: exact masks, reasons,
counts and samples."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pyarrow as pa
import pytest
from adu_core.models import ColumnInfo, TableInfo
from validation_kit import batch_of, check_of, failed_list, people_table, reasons_list, table_validator

UTC = dt.UTC


@pytest.mark.parametrize(
    ("column", "check_yaml", "label", "values", "expected_failed"),
    [
        ("age", "{ge: 18}", "ge(18)", [17, 18, 19, None], [True, False, False, False]),
        ("age", "{gt: 18}", "gt(18)", [17, 18, 19, None], [True, True, False, False]),
        ("age", "{le: 18}", "le(18)", [17, 18, 19, None], [False, False, True, False]),
        ("age", "{lt: 18}", "lt(18)", [17, 18, 19, None], [False, True, True, False]),
        ("age", "{eq: 18}", "eq(18)", [17, 18, 19, None], [True, False, True, False]),
        ("age", "{ne: 18}", "ne(18)", [17, 18, 19, None], [False, True, False, False]),
        ("age", "{greater_than_or_equal_to: 18}", "greater_than_or_equal_to(18)", [17, 18], [True, False]),
        (
            "age",
            "{in_range: [10, 20]}",
            "in_range(min_value=10, max_value=20)",
            [9, 10, 20, 21, None],
            [True, False, False, True, False],
        ),
        (
            "age",
            "{in_range: {min_value: 10, max_value: 20, include_min: false, include_max: false}}",
            "in_range(min_value=10, max_value=20, include_min=false, include_max=false)",
            [10, 11, 19, 20],
            [True, False, False, True],
        ),
        ("age", "{isin: [1, 2, 3]}", "isin([1, 2, 3])", [1, 4, None], [False, True, False]),
        ("age", "{notin: [1, 2]}", "notin([1, 2])", [1, 4, None], [True, False, False]),
        (
            "email",
            r"{str_matches: '[a-z]+@x\.org'}",
            r"str_matches('[a-z]+@x\.org')",
            ["ab@x.org", "zab@x.org.uk", "1@x.org", None],
            [False, False, True, False],
        ),
        ("email", "{str_contains: '@'}", "str_contains('@')", ["a@b", "ab", None], [False, True, False]),
        ("email", "{str_startswith: ab}", "str_startswith('ab')", ["abc", "cab"], [False, True]),
        ("email", "{str_endswith: .org}", "str_endswith('.org')", ["a.org", "a.com"], [False, True]),
        (
            "email",
            "{str_length: {min_value: 2, max_value: 3}}",
            "str_length(min_value=2, max_value=3)",
            ["a", "ab", "abc", "abcd", None],
            [True, False, False, True, False],
        ),
        (
            "email",
            "{str_length: {exact_value: 2}}",
            "str_length(exact_value=2)",
            ["a", "ab", "é€"],
            [True, False, False],
        ),
        ("email", "{unique_values_eq: [a, b]}", "unique_values_eq(['a', 'b'])", ["a", "c", None], [False, True, False]),
        (
            "balance",
            "{ge: 0.1}",
            "ge(0.1)",
            [decimal.Decimal("0.09"), decimal.Decimal("0.10"), None],
            [True, False, False],
        ),
        ("born", "{ge: 2000-01-01}", "ge(2000-01-01)", [dt.date(1999, 12, 31), dt.date(2000, 1, 1)], [True, False]),
        (
            "seen",
            "{lt: '2024-01-01 00:00:00+01:00'}",
            "lt(2024-01-01T00:00:00+01:00)",
            [dt.datetime(2023, 12, 31, 22, 59, tzinfo=UTC), dt.datetime(2023, 12, 31, 23, 0, tzinfo=UTC)],
            [False, True],
        ),
        (
            "seen",
            "{ge: 2024-06-01}",
            "ge(2024-06-01T00:00:00+00:00)",
            [dt.datetime(2024, 5, 31, 23, 59, tzinfo=UTC), dt.datetime(2024, 6, 1, tzinfo=UTC)],
            [True, False],
        ),
        ("active", "{eq: true}", "eq(true)", [True, False, None], [False, True, False]),
        (
            "score",
            "{in_range: [0, 1]}",
            "in_range(min_value=0, max_value=1)",
            [0.5, 1.5, float("nan")],
            [False, True, True],
        ),
        ("age", "{nullable: false}", "nullable(false)", [1, None, 2], [False, True, False]),
    ],
)
def test_each_check_kind(
    rules_file: Any, column: str, check_yaml: str, label: str, values: list[Any], expected_failed: list[bool]
) -> None:
    path = rules_file(
        f"""
        tables:
          public.people:
            columns:
              {column}: {check_yaml}
        """
    )
    table = people_table()
    tv = table_validator(table, path)
    n = len(values)
    batch = batch_of(table, {"id": list(range(100, 100 + n)), column: values})
    verdict = tv.validate(batch)
    assert failed_list(verdict, n) == expected_failed
    key = f"{column}:{label}"
    assert reasons_list(verdict, n) == [[key] if f else [] for f in expected_failed]
    report = tv.merge([tv.partial()])
    result = check_of(report, label, column)
    assert result.failed_rows == sum(expected_failed)
    assert report.failed_rows == sum(expected_failed)
    assert [s["key"] for s in result.samples] == [{"id": 100 + i} for i, f in enumerate(expected_failed) if f]
    assert report.mode == "fail"
    assert report.passed is (not any(expected_failed))


def test_samples_hold_typed_values_in_json_form(rules_file: Any) -> None:
    path = rules_file(
        """
        tables:
          public.people:
            columns:
              balance: {le: 10}
              seen: {ge: 2024-01-01}
        """
    )
    table = people_table()
    tv = table_validator(table, path)
    batch = batch_of(
        table,
        {
            "id": [1, 2],
            "balance": [decimal.Decimal("10.01"), decimal.Decimal("1.00")],
            "seen": [dt.datetime(2024, 1, 2, tzinfo=UTC), dt.datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC)],
        },
    )
    tv.validate(batch)
    report = tv.merge([tv.partial()])
    assert check_of(report, "le(10)", "balance").samples == [{"value": "10.01", "key": {"id": 1}}]
    assert check_of(report, "ge(2024-01-01T00:00:00+00:00)", "seen").samples == [
        {"value": "2023-01-02T03:04:05+00:00", "key": {"id": 2}}
    ]


def test_a_row_breaking_several_checks_lists_them_all_once(rules_file: Any) -> None:
    path = rules_file(
        """
        tables:
          public.people:
            columns:
              age: {ge: 0, le: 150, ne: -5}
              country: {isin: [US, GB]}
        """
    )
    table = people_table()
    tv = table_validator(table, path)
    batch = batch_of(table, {"id": [1, 2, 3], "age": [-5, 5, 200], "country": ["USA", "US", "GB"]})
    verdict = tv.validate(batch)
    assert failed_list(verdict, 3) == [True, False, True]
    assert reasons_list(verdict, 3) == [
        ["country:max_length(2)", "age:ge(0)", "age:ne(-5)", "country:isin(['US', 'GB'])"],
        [],
        ["age:le(150)"],
    ]
    report = tv.merge([tv.partial()])
    assert report.failed_rows == 2


def test_clean_batches_cost_no_mask() -> None:
    table = people_table()
    tv = table_validator(table)
    verdict = tv.validate(batch_of(table, {"id": [1, 2], "country": ["US", "GB"]}))
    assert verdict.failed is None and verdict.reasons is None
    report = tv.merge([tv.partial()])
    assert report.passed and report.failed_rows == 0
    assert {(c.check, c.column) for c in report.checks} >= {("nullable(false)", "id"), ("max_length(2)", "country")}


# ------------------------------------------------------------------------ inferred rules


def test_inferred_not_null_varchar_length_and_enum() -> None:
    table = TableInfo(
        "public",
        "t",
        columns=(
            ColumnInfo("k", "integer", pa.int32(), nullable=False),
            ColumnInfo("code", "character varying(3)", pa.string(), properties={"max_length": 3}),
            ColumnInfo("mood", "mood", pa.string(), properties={"enum": ["sad", "ok", "happy"]}),
            ColumnInfo("free", "text", pa.string()),
        ),
    )
    tv = table_validator(table)
    batch = batch_of(
        table, {"k": [1, None, 3, 4], "code": ["abc", "abcd", "€€€", None], "mood": ["ok", "meh", None, "sad"]}
    )
    verdict = tv.validate(batch)
    assert failed_list(verdict, 4) == [False, True, False, False]
    assert reasons_list(verdict, 4)[1] == [
        "k:nullable(false)",
        "code:max_length(3)",
        "mood:enum(['sad', 'ok', 'happy'])",
    ]
    report = tv.merge([tv.partial()])
    # no primary key: samples name the row (and the partition, once merged)
    assert check_of(report, "nullable(false)", "k").samples == [{"value": None, "row": 1, "partition": 0}]
    assert check_of(report, "max_length(3)", "code").failed_rows == 1


def test_inferred_enum_on_a_dictionary_column() -> None:
    table = TableInfo(
        "public",
        "t",
        columns=(ColumnInfo("mood", "mood", pa.dictionary(pa.int32(), pa.string()), properties={"enum": ["a", "b"]}),),
    )
    tv = table_validator(table)
    arr = pa.array(["a", "c", "b", None]).dictionary_encode()
    arr = arr.cast(pa.dictionary(pa.int32(), pa.string()))
    verdict = tv.validate(pa.record_batch([arr], names=["mood"]))
    assert failed_list(verdict, 4) == [False, True, False, False]


def test_inferred_dtype_fails_every_row_of_a_mistyped_batch() -> None:
    table = people_table()
    tv = table_validator(table)
    good = batch_of(table, {"id": [1, 2]})
    bad = good.set_column(1, "age", pa.array([1, 2], pa.int64()))  # int64 where int32 was promised
    assert tv.validate(good).failed is None
    verdict = tv.validate(bad)
    assert failed_list(verdict, 2) == [True, True]
    assert reasons_list(verdict, 2) == [["age:dtype(int32)"], ["age:dtype(int32)"]]
    result = check_of(tv.merge([tv.partial()]), "dtype(int32)", "age")
    assert result.failed_rows == 2
    assert result.samples == [{"value": "int64"}]


def test_inferred_precision_only_where_the_arrow_type_does_not_bound_it() -> None:
    wide = ColumnInfo("v", "numeric(5,2)", pa.decimal128(38, 2), properties={"precision": 5, "scale": 2})
    exact = ColumnInfo("w", "numeric(5,2)", pa.decimal128(5, 2), properties={"precision": 5, "scale": 2})
    table = TableInfo("public", "t", columns=(wide, exact))
    tv = table_validator(table)
    assert "v:precision(precision=5, scale=2)" in tv.checks
    assert not any(c.startswith("w:precision") for c in tv.checks)
    d = decimal.Decimal
    batch = batch_of(table, {"v": [d("999.99"), d("1000.00"), d("-1000.00"), None], "w": [d("1.00")] * 4})
    verdict = tv.validate(batch)
    assert failed_list(verdict, 4) == [False, True, True, False]


def test_rules_can_allow_nulls_the_source_forbids(rules_file: Any) -> None:
    path = rules_file(
        """
        tables:
          public.people:
            columns:
              id: {nullable: true}
        """
    )
    table = people_table()
    tv = table_validator(table, path)
    assert tv.validate(batch_of(table, {"id": [None, 1]})).failed is None


def test_no_infer_and_no_rules_means_no_validator() -> None:
    from adu_pandera import PanderaValidator

    v = PanderaValidator({"rules": None, "infer": False})
    v.check_rules([people_table()])
    assert v.for_table(people_table()) is None


def test_samples_are_capped_at_twenty_across_batches_and_partitions(rules_file: Any) -> None:
    path = rules_file(
        """
        tables:
          public.people:
            columns:
              age: {ge: 0}
        """
    )
    table = people_table()
    tv = table_validator(table, path)
    partials = []
    for part in range(3):
        worker = table_validator(table, path)
        for b in range(2):
            ids = list(range(part * 1000 + b * 100, part * 1000 + b * 100 + 15))
            worker.validate(batch_of(table, {"id": ids, "age": [-1] * 15}))
        partials.append(worker.partial())
    report = tv.merge(partials)
    result = check_of(report, "ge(0)", "age")
    assert result.failed_rows == 90
    assert report.failed_rows == 90
    assert len(result.samples) == 20
    assert [s["key"]["id"] for s in result.samples] == list(range(15)) + list(range(100, 105))


def test_inferred_precision_of_numerics_exported_as_text() -> None:
    col = ColumnInfo(
        "n", "numeric(5,2)", pa.string(), properties={"encoding": "postgresql-text", "precision": 5, "scale": 2}
    )
    table = TableInfo("public", "t", columns=(col,))
    tv = table_validator(table)
    values = ["123.45", "-0.50", "NaN", "1234.50", "1.5", "00.50", "12", None]
    verdict = tv.validate(batch_of(table, {"n": values}))
    assert failed_list(verdict, len(values)) == [False, False, False, True, True, True, True, False]


def test_not_null_on_columns_polars_cannot_load() -> None:
    uuid_col = ColumnInfo("u", "uuid", pa.uuid(), nullable=False)
    interval = ColumnInfo("i", "interval", pa.month_day_nano_interval(), nullable=False)
    table = TableInfo("public", "t", columns=(uuid_col, interval))
    tv = table_validator(table)
    u = pa.ExtensionArray.from_storage(pa.uuid(), pa.array([b"0" * 16, None, b"1" * 16], pa.binary(16)))
    i = pa.array([pa.MonthDayNano([1, 2, 3]), pa.MonthDayNano([0, 0, 0]), None], pa.month_day_nano_interval())
    verdict = tv.validate(pa.record_batch([u, i], names=["u", "i"]))
    assert failed_list(verdict, 3) == [False, True, True]
    assert reasons_list(verdict, 3) == [[], ["u:nullable(false)"], ["i:nullable(false)"]]


def test_value_checks_on_unsupported_types_are_refused(rules_file: Any) -> None:
    from adu_core.errors import UsageError
    from adu_pandera import PanderaValidator

    table = TableInfo("public", "t", columns=(ColumnInfo("u", "uuid", pa.uuid()),))
    path = rules_file("tables:\n  public.t:\n    columns:\n      u: {eq: abc}\n")
    with pytest.raises(UsageError, match=r"rules\.yaml:4: column 'u': eq: value checks are not supported"):
        PanderaValidator({"rules": path}).check_rules([table])
