"""Malformed rules files are refused before the job starts, naming the file, the line and
what was expected."""

from __future__ import annotations

import re
from typing import Any

import pytest
from adu_core.errors import UsageError
from adu_pandera import PanderaValidator
from validation_kit import people_table

HEADER = """\
tables:
  public.people:
    on_failure: quarantine
    columns:
"""


@pytest.mark.parametrize(
    ("body", "line", "expected"),
    [
        # unknown column
        ("      agee: {ge: 0}\n", 5, "unknown column 'agee' in table public.people (expected one of: id, age,"),
        # unknown check
        ("      age: {ge: 0}\n      email: {str_match: x}\n", 6, "unknown check 'str_match' on column 'email'"),
        # wrong argument types
        ("      age: {ge: abc}\n", 5, "column 'age': ge: expected a number, got the string 'abc'"),
        ("      age: {ge: true}\n", 5, "ge: expected a number, got the boolean true"),
        ("      email: {ge: 5}\n", 5, "ge: expected a string, got the number 5"),
        ("      born: {ge: 2024-13-01}\n", 5, "expected a date (YYYY-MM-DD), got the string '2024-13-01'"),
        ("      active: {gt: 0}\n", 5, "gt does not apply to a boolean column"),
        ("      age: {isin: 5}\n", 5, "isin: expected a list of values, got the number 5"),
        ("      age: {isin: [1, two]}\n", 5, "isin: expected a number, got the string 'two'"),
        ("      age: {str_matches: '^1'}\n", 5, "str_matches applies to text columns, and this column is int32"),
        ("      email: {str_matches: 5}\n", 5, "str_matches: expected a string, got the number 5"),
        ("      email: {str_matches: '(ab'}\n", 5, "expected a regular expression, got '(ab'"),
        (
            "      email: {str_matches: 'a(?=b)'}\n",
            5,
            "expected a regular expression in Rust syntax, got 'a(?=b)' (look-around is not supported)",
        ),
        ("      email: {str_length: {max_value: -1}}\n", 5, "str_length max_value: expected a whole number >= 0"),
        (
            "      email: {str_length: {maximum: 3}}\n",
            5,
            "unknown argument 'maximum' for str_length (expected: min_value, max_value, exact_value)",
        ),
        ("      email: {str_length: 3}\n", 5, "str_length needs a list [min_value, max_value] or a mapping"),
        ("      email: {str_length: {}}\n", 5, "str_length needs min_value, max_value or exact_value"),
        ("      age: {in_range: [5]}\n", 5, "in_range needs max_value"),
        ("      age: {in_range: [5, 1]}\n", 5, "in_range needs min_value <= max_value"),
        (
            "      age: {in_range: {min_value: 1, max_value: 5, include_min: 1}}\n",
            5,
            "in_range include_min: expected true or false, got the number 1",
        ),
        ("      age: {nullable: 'no'}\n", 5, "nullable must be true or false, got the string 'no'"),
        ("      age: {unique: 1}\n", 5, "unique must be true or false, got the number 1"),
        ("      age: [ge, 0]\n", 5, "column 'age' must map check names to arguments"),
        ("      age:\n        ge: 0\n        ge: 1\n", 7, "duplicate key 'ge' (first given on line 6)"),
        ("      age: {ge: 0\n", 6, "not valid YAML"),
    ],
)
def test_bad_column_rules_name_the_line(rules_file: Any, body: str, line: int, expected: str) -> None:
    path = rules_file(HEADER + body)
    validator = PanderaValidator({"rules": path, "infer": True})
    with pytest.raises(UsageError) as info:
        validator.check_rules([people_table()])
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"rules.yaml:{line}: "), message
    assert expected in message, message


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        (
            "tables:\n  public.peeple:\n    columns: {}\n",
            2,
            "unknown table 'public.peeple' (expected one of: public.people)",
        ),
        (
            "tables:\n  public.people:\n    on_failure: drop\n",
            3,
            "on_failure must be one of fail, quarantine, warn, got the string 'drop'",
        ),
        (
            "tables:\n  public.people:\n    colums: {}\n",
            3,
            "unknown key 'colums' for table public.people (expected: on_failure, columns, rows)",
        ),
        ("tables:\n  public.people:\n    rows: {min: one}\n", 3, "rows min must be a whole number >= 0"),
        ("tables:\n  public.people:\n    rows: {min: 5, max: 2}\n", 3, "rows min (5) is greater than max (2)"),
        ("tables:\n  public.people:\n    rows: {least: 5}\n", 3, "unknown key 'least' in rows (expected: min, max)"),
        ("tables:\n  public.people:\n    rows: 5\n", 3, "rows must be a mapping like {min: 1, max: 1000}"),
        ("tables:\n  public.people:\n    columns: [age]\n", 3, "'columns' must be a mapping of column names"),
        ("table:\n  public.people: {}\n", 1, "unknown key 'table' (expected: tables, on_failure)"),
        ("tables: [public.people]\n", 1, "'tables' must be a mapping of schema.table names"),
        ("- just\n- a list\n", 1, "expected a mapping with a 'tables' key"),
        ("on_failure: maybe\ntables: {}\n", 1, "on_failure must be one of fail, quarantine, warn"),
    ],
)
def test_bad_table_rules_name_the_line(rules_file: Any, text: str, line: int, expected: str) -> None:
    path = rules_file(text)
    with pytest.raises(UsageError) as info:
        PanderaValidator({"rules": path}).check_rules([people_table()])
    message = str(info.value)
    assert re.match(rf"rules\.yaml:{line}: ", message), message
    assert expected in message, message


def test_a_missing_rules_file_is_a_usage_error(tmp_path: Any) -> None:
    with pytest.raises(UsageError, match=r"cannot read rules file .*nope\.yaml"):
        PanderaValidator({"rules": str(tmp_path / "nope.yaml")}).check_rules([people_table()])


def test_a_good_file_passes_and_empty_tables_are_fine(rules_file: Any) -> None:
    path = rules_file(
        """
        on_failure: warn
        tables:
          public.people:
            columns:
              age: {ge: 0, le: 150}
              email: {str_matches: '^[^@]+@[^@]+\\.[a-z]+$'}
              country: {isin: [US, GB, DE, FR]}
              balance: {nullable: false}
              id: {unique: true}
            rows: {min: 1}
        """
    )
    v = PanderaValidator({"rules": path})
    v.check_rules([people_table()])
    tv = v.for_table(people_table())
    assert tv is not None and tv.mode == "warn"
    assert PanderaValidator({"rules": rules_file("tables:\n", name="empty.yaml")}).for_table(people_table())
