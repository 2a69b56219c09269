"""``adu verify DIR [DIR...] [--chain PREV]``: check an export against its manifest (and
signature); several, oldest first, as a chain of custody."""

from __future__ import annotations

import json

import click
from adu_core.errors import UsageError
from adu_core.services.exports import verify_chain, verify_export


@click.command("verify")
@click.argument("directories", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=str))
@click.option(
    "--chain",
    "chain",
    multiple=True,
    type=click.Path(file_okay=False, path_type=str),
    help="An earlier export DIR continues (repeatable, oldest first): verify the chain PREV... DIR.",
)
@click.option(
    "--public-key",
    "public_key",
    type=click.Path(exists=True, dir_okay=False, path_type=str),
    help="Ed25519 public key (PEM): the manifest must carry a valid signature by it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Files hashed at once (default: CPUs).")
@click.pass_context
def command(
    ctx: click.Context,
    directories: tuple[str, ...],
    chain: tuple[str, ...],
    public_key: str | None,
    as_json: bool,
    workers: int | None,
) -> None:
    """Recompute every file's SHA-256, have the sink that wrote the files check each one
    (Parquet: row counts and schemas from the footers), and compare them with
    DIR/manifest.json; look for missing and unexpected files; check the signature when
    --public-key is given.

    Several directories (oldest first, or DIR --chain PREV) are a chain of repeated
    transfers: each must verify, and each delta must continue the export before it (its
    manifest names the previous one's SHA-256 and starts at its watermarks). A gap, a
    repeat, a swap, an edited link or another signing key is named.

    Exit status: 0 everything matches, 1 any mismatch, 2 a DIR is not an export.
    """
    paths = list(chain) + list(directories)
    try:
        if len(paths) == 1:
            report = verify_export(paths[0], public_key, workers=workers)
        else:
            chained = verify_chain(list(paths), public_key, workers=workers)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None
    if len(paths) == 1:
        if as_json:
            click.echo(json.dumps(report.to_dict(), indent=2, sort_keys=True, ensure_ascii=False))
        else:
            for line in report.lines():
                click.echo(line, err=not report.is_export)
        ctx.exit(report.exit_code)
    if as_json:
        click.echo(json.dumps(chained.to_dict(), indent=2, sort_keys=True, ensure_ascii=False))
    else:
        for line in chained.lines():
            click.echo(line)
    ctx.exit(chained.exit_code)
