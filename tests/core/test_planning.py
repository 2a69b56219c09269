"""Planning: discovery options stay with the engine; a view is selected only when asked."""

import pytest
from adu_core import duck
from adu_core.errors import UsageError
from adu_core.models import JobSpec, TableSelection
from adu_core.planning import plan_tables, reader_options
from adu_duckdb.source import DuckDBSource


@pytest.fixture
def db_with_a_view(tmp_path):
    path = tmp_path / "v.duckdb"
    con = duck.connect(str(path))
    con.execute("CREATE TABLE t AS SELECT range AS id FROM range(5); CREATE VIEW v AS SELECT id * 2 AS twice FROM t")
    con.close()
    return f"duckdb://{path}"


def _spec(url, **options):
    return JobSpec(
        source=url, target="/tmp/unused", selection=TableSelection(tables=("main.v",)), source_options=options
    )


def test_reader_options_leave_out_what_discovery_needs():
    spec = _spec("duckdb:///x", include_views="true", include_foreign=True, infinity="null")
    assert reader_options(spec.source_options) == {"infinity": "null"}


@pytest.mark.parametrize("asked", [None, False, "false", "0", "no", ""])
def test_a_view_not_asked_for_is_named_with_the_way_to_ask(db_with_a_view, asked):
    options = {} if asked is None else {"include_views": asked}
    with pytest.raises(UsageError, match=r"^main\.v is a view: add --views \(source option include_views=true\)"):
        plan_tables(DuckDBSource(db_with_a_view), _spec(db_with_a_view, **options))


@pytest.mark.parametrize("asked", [True, "true", "1", "yes", "ON"])
def test_a_view_asked_for_is_selected(db_with_a_view, asked):
    _all, selected = plan_tables(DuckDBSource(db_with_a_view), _spec(db_with_a_view, include_views=asked))
    assert [t.qualified_name for t in selected] == ["main.v"]


def test_a_missing_table_is_still_a_plain_error(db_with_a_view):
    spec = JobSpec(source=db_with_a_view, target="/tmp/unused", selection=TableSelection(tables=("main.nope",)))
    with pytest.raises(UsageError, match=r"table 'main\.nope' does not exist in the source"):
        plan_tables(DuckDBSource(db_with_a_view), spec)
