"""Python schemas: a pandera DataFrameModel given as module:Class (or file.py:Class)."""

from __future__ import annotations

import pickle
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
from adu_core.errors import UsageError
from adu_core.models import TableInfo
from adu_pandera import PanderaValidator
from validation_kit import batch_of, check_of, failed_list, people_table, reasons_list

MODEL = """
import pandera.polars as pa
import polars as pl


class PeopleModel(pa.DataFrameModel):
    id: pl.Int64 = pa.Field(nullable=False)
    age: pl.Int32 = pa.Field(ge=0, nullable=True)
    email: pl.String = pa.Field(nullable=True, str_contains="@")

    @pa.dataframe_check
    def adults_have_email(cls, data) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("age") < 18) | pl.col("email").is_not_null())

    class Config:
        name = {table!r}
        metadata = {{"adu": {{"on_failure": "quarantine"}}}}
"""


def write_model(tmp_path: Path, monkeypatch: Any, table: str | None = "public.people") -> str:
    """A fresh module holding PeopleModel; returns its module name."""
    name = f"people_rules_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(MODEL.format(table=table)))
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def test_model_checks_rows_and_reports_pandera_names(tmp_path: Path, monkeypatch: Any) -> None:
    module = write_model(tmp_path, monkeypatch)
    v = PanderaValidator({"rules": f"{module}:PeopleModel", "infer": False})
    table = people_table()
    v.check_rules([table])
    tv = v.for_table(table)
    assert tv is not None and tv.mode == "quarantine"
    tv = pickle.loads(pickle.dumps(tv))
    batch = batch_of(
        table,
        {"id": [1, 2, 3, 4], "age": [30, -1, 40, 10], "email": ["a@x", "b@x", None, "nope"]},
    )
    verdict = tv.validate(batch)
    assert failed_list(verdict, 4) == [False, True, True, True]
    reasons = reasons_list(verdict, 4)
    assert reasons[1] == ["age:greater_than_or_equal_to(0)"]
    assert reasons[2] == ["public.people:adults_have_email"]
    assert reasons[3] == ["email:str_contains('@')"]
    report = tv.merge([tv.partial()])
    assert report.failed_rows == 3
    ge = check_of(report, "greater_than_or_equal_to(0)", "age")
    assert ge.failed_rows == 1 and ge.samples == [{"value": -1, "key": {"id": 2}}]
    assert check_of(report, "not_nullable", "id").failed_rows == 0


def test_model_plus_inferred_rules(tmp_path: Path, monkeypatch: Any) -> None:
    module = write_model(tmp_path, monkeypatch)
    v = PanderaValidator({"rules": f"{module}:PeopleModel", "infer": True})
    table = people_table()
    v.check_rules([table])
    tv = v.for_table(table)
    assert tv is not None
    verdict = tv.validate(batch_of(table, {"id": [1], "age": [5], "country": ["USA"], "email": ["k@x"]}))
    assert reasons_list(verdict, 1) == [["country:max_length(2)"]]


def test_model_given_as_a_file_path(tmp_path: Path, monkeypatch: Any) -> None:
    module = write_model(tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)
    v = PanderaValidator({"rules": f"{module}.py:PeopleModel", "infer": False})
    v.check_rules([people_table()])
    tv = v.for_table(people_table())
    assert tv is not None and tv.model_ref is not None and tv.model_ref.startswith(str(tmp_path))


def test_unbound_model_applies_to_every_table_and_needs_its_columns(tmp_path: Path, monkeypatch: Any) -> None:
    module = write_model(tmp_path, monkeypatch, table=None)
    other = TableInfo("public", "orders", columns=people_table().columns[:2])
    v = PanderaValidator({"rules": f"{module}:PeopleModel"})
    with pytest.raises(UsageError, match=r"column 'email' is not in table public.orders \(set Config.name"):
        v.check_rules([people_table(), other])


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("no_such_module_xyz:Model", "no module named 'no_such_module_xyz'"),
        ("{module}:Missing", "has no attribute 'Missing'"),
        ("{module}:pl", "expected a pandera.polars DataFrameModel class or DataFrameSchema, got module"),
    ],
)
def test_bad_model_refs(tmp_path: Path, monkeypatch: Any, ref: str, expected: str) -> None:
    module = write_model(tmp_path, monkeypatch)
    with pytest.raises(UsageError, match=expected):
        PanderaValidator({"rules": ref.format(module=module)}).check_rules([people_table()])


def test_model_bound_to_an_unknown_table(tmp_path: Path, monkeypatch: Any) -> None:
    module = write_model(tmp_path, monkeypatch, table="public.nobody")
    with pytest.raises(UsageError, match=r"unknown table 'public\.nobody'"):
        PanderaValidator({"rules": f"{module}:PeopleModel"}).check_rules([people_table()])
