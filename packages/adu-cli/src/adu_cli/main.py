"""``adu``: the command line. Every command is a thin layer over :mod:`adu_core`.

Exit codes: 0 success, 1 the job failed (or a verification mismatch), 2 bad usage or input.
"""

from __future__ import annotations

import importlib
import sys

import click

from adu_cli.context import Env

#: command name -> (module, attribute); a module is imported only when its command runs,
#: so ``adu export`` does not pay for the web server's imports
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("adu_cli.commands.demo", "command"),
    "discover": ("adu_cli.commands.discover", "command"),
    "export": ("adu_cli.commands.export", "command"),
    "inspect": ("adu_cli.commands.inspect", "command"),
    "jobs": ("adu_cli.commands.jobs", "group"),
    "keys": ("adu_cli.commands.keys", "group"),
    "plugins": ("adu_cli.commands.plugins", "command"),
    "serve": ("adu_cli.commands.serve", "command"),
    "users": ("adu_cli.commands.users", "group"),
    "verify": ("adu_cli.commands.verify", "command"),
    "worker": ("adu_cli.commands.serve", "worker_command"),
}


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(entry[0])
        command = getattr(module, entry[1])
        assert isinstance(command, click.Command)
        return command


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
