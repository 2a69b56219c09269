"""``adu``: the command line. Every command is a thin layer over :mod:`adu_core`.

Its own commands are in :data:`COMMANDS`; plugins add theirs through the
``adu_register_commands`` hook (adu-duckdb brings ``demo``, adu-web ``serve``).

Exit codes: 0 success, 1 the job failed (or a verification mismatch), 2 bad usage or input.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from adu_cli.context import EXIT_USAGE, Env, fail, handle_errors

#: command name -> (module, attribute); a module is imported only when its command runs,
#: so ``adu export`` does not pay for the web server's imports
COMMANDS: dict[str, tuple[str, str]] = {
    "discover": ("adu_cli.commands.discover", "command"),
    "export": ("adu_cli.commands.export", "command"),
    "inspect": ("adu_cli.commands.inspect", "command"),
    "jobs": ("adu_cli.commands.jobs", "group"),
    "keys": ("adu_cli.commands.keys", "group"),
    "load": ("adu_cli.commands.load", "command"),
    "plugins": ("adu_cli.commands.plugins", "command"),
    "users": ("adu_cli.commands.users", "group"),
    "verify": ("adu_cli.commands.verify", "command"),
    "worker": ("adu_cli.commands.worker", "command"),
}

#: command name -> the first sentence of its help, as ``adu --help`` lists it: the list
#: needs no command module (each imports the services it runs: the store, pyarrow);
#: tests/cli/test_startup.py checks these against the commands' own help
SUMMARIES: dict[str, str] = {
    "discover": "List the schemas, tables and columns of SOURCE (a URL, a DuckDB file or @name).",
    "export": "Export tables of SOURCE to Parquet files in --out, with a manifest.",
    "inspect": "Show what an export holds: its tables and row counts, or one table's schema "
    "(source and Arrow types), DDL and first rows (read through DuckDB).",
    "jobs": "List, inspect, cancel and retry jobs.",
    "keys": "Manage the keys that sign export manifests.",
    "load": "Load the export in DIRECTORY into TARGET (postgresql://…, duckdb:///file.duckdb, vertica://… or "
    "@name), after verifying every file; each table atomically.",
    "plugins": "List loaded plugins, their versions and what each provides, and the options of every "
    "source, sink and validator (what --source-option / --sink-option take).",
    "users": "Manage dashboard accounts: admin (everything), operator (runs jobs), viewer (reads).",
    "verify": "Recompute every file's SHA-256, have the sink that wrote the files check each one "
    "(Parquet: row counts and schemas from the footers), and compare them with DIR/manifest.json; "
    "look for missing and unexpected files; check the signature when --public-key is given.",
    "worker": "Run queued jobs from the store until stopped.",
}


#: commands a plugin brings, and the distribution to install when it is missing
PLUGIN_COMMANDS: dict[str, str] = {"demo": "adu-duckdb", "serve": "adu-web"}


def _with_error_convention(command: click.Command) -> None:
    """A plugin's command (and its subcommands) print ADU's errors in one line with the
    documented exit code, as the CLI's own commands do."""
    if command.callback is not None:
        command.callback = handle_errors(command.callback)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _with_error_convention(sub)


def _missing_plugin(name: str, distribution: str) -> click.Command:
    """A stand-in for a plugin's command when the plugin is not installed."""

    def explain(**_: Any) -> None:
        fail(f"adu {name} needs the {distribution} plugin: pip install {distribution}", EXIT_USAGE)

    return click.Command(
        name,
        callback=explain,
        help=f"(needs {distribution})",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
        add_help_option=False,
    )


class LazyGroup(click.Group):
    """A click group whose own commands are imported on first use, and whose plugins'
    commands are added the first time any command name is looked up or listed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: ``{command: plugin}`` of the commands plugins added
        self.plugin_commands: dict[str, str] | None = None

    def _load_plugin_commands(self) -> dict[str, str]:
        if self.plugin_commands is None:
            from adu_core.services.plugins import add_commands

            self.plugin_commands = add_commands(self, reserved=COMMANDS)
            for name in self.plugin_commands:
                _with_error_convention(self.commands[name])
        return self.plugin_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self._load_plugin_commands()))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``adu --help``: the CLI's own commands from
        :data:`SUMMARIES` (no command module imported), the plugins' from their commands."""
        rows = []
        names = self.list_commands(ctx)
        width = formatter.width - 6 - max((len(n) for n in names), default=0)
        for name in names:
            if name in SUMMARIES:
                text = click.Command(name, help=SUMMARIES[name]).get_short_help_str(width)
            else:
                command = self.get_command(ctx, name)
                if command is None or command.hidden:
                    continue
                text = command.get_short_help_str(width)
            rows.append((name, text))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is not None:
            module = importlib.import_module(entry[0])
            command = getattr(module, entry[1])
            assert isinstance(command, click.Command)
            return command
        self._load_plugin_commands()
        found = self.commands.get(cmd_name)
        if found is None and cmd_name in PLUGIN_COMMANDS:
            return _missing_plugin(cmd_name, PLUGIN_COMMANDS[cmd_name])
        return found


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="adu-cli", prog_name="adu")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """ADU, the Air-gapped Data Utility: PostgreSQL, Vertica and DuckDB tables to
    verified Parquet, every job recorded.

    Exit codes: 0 success, 1 the job failed or the export does not verify,
    2 bad usage or input.
    """
    ctx.ensure_object(Env)


def main() -> None:
    """Run the CLI. Bad usage (an unknown option, ``--parallel 0``) is one line on stderr
    and exit code 2, like every other bad input, not click's usage block."""
    try:
        code = cli.main(prog_name="adu", standalone_mode=False)
    except click.exceptions.UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # `adu`, `adu jobs`: the help itself
            exc.show()
            sys.exit(exc.exit_code)
        hint = f" (see adu {exc.ctx.command_path.partition(' ')[2]} --help)".replace("  ", " ") if exc.ctx else ""
        click.echo(f"adu: error: {exc.format_message()}{hint}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("adu: error: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
