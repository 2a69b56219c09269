import pyarrow as pa
import pytest
from adu_core.errors import UsageError
from adu_core.models import SOURCE_TYPE_KEY, ColumnInfo, JobSpec, TableInfo, TableSelection
from hypothesis import given
from hypothesis import strategies as st


def _table(schema: str, name: str) -> TableInfo:
    return TableInfo(schema=schema, name=name, columns=(ColumnInfo("id", "bigint", pa.int64(), False),))


def test_jobspec_roundtrips_json_and_yaml_without_password():
    spec = JobSpec(
        source="postgresql://alice:s3cr%40t@db.example:5432/prod?sslmode=require",
        target="/exports/x",
        selection=TableSelection(schemas=("public",), tables=("sales.*",), exclude=("*.tmp_*",)),
        sink_options={"compression": "zstd", "row_group_size": 100000},
        source_options={"infinity": "null"},
        rules="rules.yaml",
        parallel=4,
        overwrite=True,
        name="nightly",
    )
    for text in (spec.to_json(), spec.to_yaml()):
        assert "s3cr" not in text
    back = JobSpec.from_json(spec.to_json())
    assert back == spec.redacted()
    assert JobSpec.from_yaml(spec.to_yaml()) == back
    assert back.source == "postgresql://alice@db.example:5432/prod?sslmode=require"


def test_jobspec_rejects_unknown_fields_and_bad_parallel():
    with pytest.raises(UsageError, match="unknown job spec field"):
        JobSpec.from_dict({"source": "x://", "target": "/t", "colour": "red"})
    with pytest.raises(UsageError):
        JobSpec(source="x://", target="/t", parallel=0)


def test_selection_by_schema_table_and_exclude():
    tables = [_table("public", "a"), _table("public", "tmp_b"), _table("sales", "orders"), _table("hr", "x")]
    sel = TableSelection(schemas=("public",), tables=("sales.orders",), exclude=("*.tmp_*",))
    assert [t.qualified_name for t in sel.select(tables)] == ["public.a", "sales.orders"]
    assert len(TableSelection().select(tables)) == 4


def test_selection_names_a_missing_table():
    with pytest.raises(UsageError, match=r"'sales\.nope' does not exist"):
        TableSelection(tables=("sales.nope",)).select([_table("sales", "orders")])
    with pytest.raises(UsageError, match="schema 'ghost'"):
        TableSelection(schemas=("ghost",)).select([_table("sales", "orders")])


def test_arrow_schema_carries_source_types():
    t = TableInfo(
        "s",
        "t",
        (
            ColumnInfo("n", "numeric(20,6)", pa.decimal128(20, 6)),
            ColumnInfo("m", "mood", pa.string(), properties={"enum": ["a"]}),
        ),
    )
    schema = t.arrow_schema()
    assert schema.field("n").metadata[SOURCE_TYPE_KEY] == b"numeric(20,6)"
    assert schema.field("m").metadata[SOURCE_TYPE_KEY] == b"mood"


@given(st.text(min_size=1, max_size=30).filter(lambda s: "\x00" not in s))
def test_selection_matches_any_name_exactly(name):
    t = _table("s", name)
    escaped = "".join(f"[{c}]" if c in "*?[" else c for c in name)
    assert TableSelection(tables=(f"s.{escaped}",)).matches(t)
