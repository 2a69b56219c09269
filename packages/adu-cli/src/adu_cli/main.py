"""``adu``: the command line. Every command is a thin layer over :mod:`adu_core`.

Exit codes: 0 success, 1 the job failed (or a verification mismatch), 2 bad usage or input.
"""

from __future__ import annotations

import importlib

import click

from adu_cli.context import Env

#: command modules, each exposing ``command`` (or ``group``); missing ones are skipped
COMMAND_MODULES = (
    "adu_cli.commands.discover",
    "adu_cli.commands.export",
    "adu_cli.commands.jobs",
    "adu_cli.commands.plugins",
    "adu_cli.commands.demo",
    "adu_cli.commands.verify",
    "adu_cli.commands.inspect",
    "adu_cli.commands.keys",
    "adu_cli.commands.serve",
    "adu_cli.commands.users",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="adu-cli", prog_name="adu")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """ADU, the Air-gapped Data Utility: PostgreSQL, Vertica and DuckDB tables to
    verified Parquet, every job recorded.

    Exit codes: 0 success, 1 the job failed or the export does not verify,
    2 bad usage or input.
    """
    ctx.ensure_object(Env)


def _load_commands() -> None:
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        for attr in ("command", "group", "commands"):
            obj = getattr(mod, attr, None)
            if isinstance(obj, click.Command):
                cli.add_command(obj)
            elif isinstance(obj, (list, tuple)):
                for c in obj:
                    cli.add_command(c)


_load_commands()


def main() -> None:
    cli(prog_name="adu")


if __name__ == "__main__":  # pragma: no cover
    main()
