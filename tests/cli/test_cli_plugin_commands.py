"""Plugins bring commands and options to the command line: their commands follow the CLI's
error convention, cannot replace its own, and option choices come from their schemas."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest
from adu_cli import main
from adu_core.errors import AduError, UsageError
from adu_core.plugin import hookimpl
from click.testing import CliRunner


@pytest.fixture
def cli(adu_plugins):
    """A fresh ``adu`` group (plugin commands are added once per group)."""
    return main.LazyGroup(
        name="adu", callback=main.cli.callback, params=list(main.cli.params), context_settings=main.cli.context_settings
    )


class Commands:
    @hookimpl
    def adu_register_commands(self, cli):
        import click

        @cli.command("greet")
        @click.argument("name")
        def greet(name):
            """Say hello."""
            if name == "nobody":
                raise UsageError("there is nobody to greet")
            if name == "broken":
                raise AduError("the greeting failed")
            click.echo(f"hello {name}")

        @cli.command("export")
        def export():
            click.echo("hijacked")


def test_plugin_commands_run_with_the_error_convention(cli, register_plugin, tmp_path: Path) -> None:
    register_plugin(Commands(), name="greeter")
    run = CliRunner().invoke
    env = {"ADU_DATA_DIR": str(tmp_path)}
    assert run(cli, ["greet", "ann"], env=env).output == "hello ann\n"
    res = run(cli, ["greet", "nobody"], env=env)
    assert res.exit_code == 2 and res.output == "adu: error: there is nobody to greet\n"
    res = run(cli, ["greet", "broken"], env=env)
    assert res.exit_code == 1 and res.output == "adu: error: the greeting failed\n"
    assert "greet" in run(cli, ["--help"], env=env).output


def test_a_plugin_cannot_replace_a_builtin_command(cli, register_plugin, adu_plugins, tmp_path: Path) -> None:
    register_plugin(Commands(), name="greeter")
    assert "greet" in CliRunner().invoke(cli, ["--help"]).output  # lists (and so loads) the plugins' commands
    res = CliRunner().invoke(cli, ["export", "--help"], env={"ADU_DATA_DIR": str(tmp_path)})
    assert res.exit_code == 0 and "Export tables of SOURCE" in res.output and "hijacked" not in res.output
    assert cli.plugin_commands == {"greet": "greeter", "demo": "duckdb", "serve": "web"}
    assert "plugin 'greeter' tried to add the command 'export', which exists already" in adu_plugins.errors


def test_a_missing_plugin_command_says_what_to_install(cli, monkeypatch, tmp_path: Path) -> None:
    from adu_core.plugin.manager import Plugins, set_plugins

    monkeypatch.setenv("ADU_BLOCK_PLUGINS", "duckdb,web")
    set_plugins(Plugins())  # the adu_plugins fixture puts the previous one back
    res = CliRunner().invoke(cli, ["demo", "--dir", "x"], env={"ADU_DATA_DIR": str(tmp_path)})
    assert (
        res.exit_code == 2
        and res.output == "adu: error: adu demo needs the adu-duckdb plugin: pip install adu-duckdb\n"
    )
    res = CliRunner().invoke(cli, ["serve"], env={"ADU_DATA_DIR": str(tmp_path)})
    assert res.exit_code == 2 and "adu serve needs the adu-web plugin: pip install adu-web" in res.output
    assert "demo" not in CliRunner().invoke(cli, ["--help"]).output


def test_adu_plugins_json_shows_components_options_and_commands(cli, tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["plugins", "--json"], env={"ADU_DATA_DIR": str(tmp_path)})
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    provides = {p["name"]: p["provides"] for p in data["plugins"]}
    assert provides["duckdb"] == ["source:duckdb", "load sink:duckdb", "command:demo"]
    assert provides["web"] == ["command:serve"]
    parquet = next(c for c in data["components"] if c["kind"] == "sink" and c["name"] == "parquet")
    compression = next(o for o in parquet["options"] if o["name"] == "compression")
    assert compression == {
        "name": "compression",
        "type": "str",
        "choices": ["zstd", "snappy", "gzip", "lz4", "none"],
        "default": "zstd",
        "help": "Parquet compression codec",
        "minimum": None,
        "web": True,
    }


def test_compression_choices_come_from_the_sink_schema(cli, monkeypatch, tmp_path: Path) -> None:
    from adu_parquet.sink import ParquetSink

    schema = tuple(
        attrs.evolve(o, choices=(*o.choices, "brotli")) if o.name == "compression" else o
        for o in ParquetSink.option_schema
    )
    monkeypatch.setattr(ParquetSink, "option_schema", schema)
    res = CliRunner().invoke(cli, ["export", "--help"], env={"ADU_DATA_DIR": str(tmp_path)})
    assert "[zstd|snappy|gzip|lz4|none|brotli]" in res.output


def test_options_are_checked_before_the_job_is_recorded(cli, tmp_path: Path) -> None:
    env = {"ADU_DATA_DIR": str(tmp_path / "data")}
    out = str(tmp_path / "out")
    args = ["export", "duckdb:///x.duckdb", "--out", out]
    res = CliRunner().invoke(cli, [*args, "--sink-option", "colour=red"], env=env)
    assert res.exit_code == 2
    assert res.output.startswith("adu: error: unknown Parquet sink option(s): colour; allowed: compression, ")
    res = CliRunner().invoke(cli, [*args, "--source-option", "views=1"], env=env)
    assert res.output == (
        "adu: error: unknown DuckDB source option(s): views; allowed: include_foreign, include_views\n"
    )
    res = CliRunner().invoke(cli, ["jobs", "list", "--json"], env=env)
    assert json.loads(res.output) == []  # nothing was recorded
