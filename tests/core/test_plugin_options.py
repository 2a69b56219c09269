"""Option schemas: typed values, one-line refusals naming what is allowed, checked by the
base constructors; Source.accepts decides which source opens a URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from adu_core.errors import UsageError
from adu_core.plugin import hookimpl
from adu_core.plugin.components import Source
from adu_core.plugin.options import DISCOVERY_OPTIONS, Option, check_options, parse_pairs


@pytest.mark.parametrize(
    ("option", "given", "typed"),
    [
        (Option("b", "bool"), "Yes", True),
        (Option("b", "bool"), "off", False),
        (Option("b", "bool"), False, False),
        (Option("n", "int"), "42", 42),
        (Option("n", "int"), 7.0, 7),
        (Option("x", "float"), "64", 64),  # a whole number stays one
        (Option("x", "float"), "0.5", 0.5),
        (Option("s", "size"), "512MiB", "512MiB"),
        (Option("s", "size"), 1024, 1024),
        (Option("c", choices=("zstd", "none")), "ZSTD", "zstd"),  # the declared spelling
        (Option("d", choices=("auto", "true", "false")), True, "true"),
        (Option("t"), 5000, "5000"),
    ],
)
def test_values_are_checked_and_typed(option: Option, given: object, typed: object) -> None:
    assert option.check(given) == typed
    assert type(option.check(given)) is type(typed)


@pytest.mark.parametrize(
    ("option", "given", "message"),
    [
        (Option("b", "bool"), "maybe", "sink option b must be true or false (not 'maybe')"),
        (Option("n", "int"), "4.5", "sink option n must be an integer (not '4.5')"),
        (Option("n", "int"), True, "sink option n must be an integer (not True)"),
        (Option("n", "int", minimum=1), 0, "sink option n must be at least 1 (not 0)"),
        (Option("s", "size"), "lots", "sink option s must be a size such as 1048576, 512MiB or 1GB (not 'lots')"),
        (Option("s", "size"), "-1", "a size such as"),
        (Option("c", choices=("zstd", "none")), "brotli", "sink option c must be one of: zstd, none (not 'brotli')"),
        (Option("t"), {"a": 1}, "sink option t must be text"),
    ],
)
def test_bad_values_are_refused_in_one_line(option: Option, given: object, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        option.check(given, what="sink option")
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_unknown_keys_name_the_allowed_ones_and_none_means_not_given() -> None:
    schema = (Option("alpha"), Option("beta", "int"))
    assert check_options(schema, {"beta": "3", "alpha": None}, what="source option", owner="X") == {"beta": 3}
    with pytest.raises(UsageError, match=r"^unknown X source option\(s\): gamma, zeta; allowed: alpha, beta$"):
        check_options(schema, {"zeta": 1, "gamma": 2, "alpha": "a"}, what="source option", owner="X")
    assert parse_pairs(["a = 1 ", "b=x=y"], "--opt") == {"a": "1", "b": "x=y"}
    with pytest.raises(UsageError, match="--opt must look like key=value"):
        parse_pairs(["nope"], "--opt")


class _Toy(Source):
    name, title, schemes = "toy", "Toy", ("toy", "toys")
    option_schema = (Option("depth", "int", default=1, minimum=0),)

    def info(self): ...
    def discover(self, *, include_views=False, include_foreign=False): ...
    def partitions(self, table, *, target): ...
    def read(self, partition, *, snapshot, batch_rows, cancel): ...


def test_the_base_constructor_checks_the_options() -> None:
    src = _Toy("toy://x", {"depth": "3", "include_views": "true"})
    assert src.options == {"depth": 3, "include_views": True}
    assert [o.name for o in _Toy.all_options()] == [o.name for o in DISCOVERY_OPTIONS] + ["depth"]
    with pytest.raises(UsageError, match=r"unknown Toy source option\(s\): colour; allowed: depth, include_foreign"):
        _Toy("toy://x", {"colour": "red"})


def test_accepts_by_scheme_and_the_duckdb_source_by_file(tmp_path: Path, register_plugin, adu_plugins) -> None:
    from adu_core import duck

    assert _Toy.accepts("TOYS://h/x") and not _Toy.accepts("postgresql://h/x") and not _Toy.accepts("no scheme")

    class ToyPlugin:
        @hookimpl
        def adu_register_sources(self, register):
            register(_Toy)

    register_plugin(ToyPlugin(), name="toy")
    assert adu_plugins.source_class("toys://h/x") is _Toy
    db = tmp_path / "data.bin"  # a DuckDB file whatever its name
    duck.connect(str(db)).close()
    assert adu_plugins.source_class(str(db)).name == "duckdb"
    assert adu_plugins.source_class(str(tmp_path / "new.duckdb")).name == "duckdb"
    other = tmp_path / "notes.txt"
    other.write_text("not a database")
    with pytest.raises(UsageError, match="not a source URL"):
        adu_plugins.source_class(str(other))


def test_a_component_declaring_an_option_twice_is_refused(register_plugin, adu_plugins) -> None:
    class Twice(_Toy):
        name, schemes = "twice", ("twice",)
        option_schema = (Option("include_views", "bool"),)  # the engine's own

    class TwicePlugin:
        @hookimpl
        def adu_register_sources(self, register):
            register(Twice)

    register_plugin(TwicePlugin(), name="twice")
    with pytest.raises(UsageError, match="'twice' declares an option twice"):
        _ = adu_plugins.registry


def test_every_builtin_component_declares_its_options(adu_plugins) -> None:
    from adu_core.services.plugins import components

    options = {(c.kind, c.name): {o.name for o in c.options} for c in components()}
    assert {"infinity", "numeric", "arrays", "statement_timeout", "lock_timeout", "password_file"} <= options[
        ("source", "postgresql")
    ]
    assert {"partition_mb", "connect_timeout", "include_views", "include_foreign"} <= options[("source", "postgresql")]
    assert {"partitioning", "infinity", "tlsmode", "password_env"} <= options[("source", "vertica")]
    assert {"compression", "compression_level", "max_file_bytes", "dictionary"} <= options[("sink", "parquet")]
    assert options[("validator", "pandera")] == {"rules", "infer"}
    assert options[("source", "duckdb")] == {"include_views", "include_foreign"}
