"""``adu verify DIR``: check an export against its manifest (and signature)."""

from __future__ import annotations

import json

import click
from adu_core.errors import UsageError
from adu_core.services.exports import verify_export


@click.command("verify")
@click.argument("directory", type=click.Path(file_okay=False, path_type=str))
@click.option(
    "--public-key",
    "public_key",
    type=click.Path(exists=True, dir_okay=False, path_type=str),
    help="Ed25519 public key (PEM): the manifest must carry a valid signature by it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Files hashed at once (default: CPUs).")
@click.pass_context
def command(ctx: click.Context, directory: str, public_key: str | None, as_json: bool, workers: int | None) -> None:
    """Recompute every file's SHA-256, have the sink that wrote the files check each one
    (Parquet: row counts and schemas from the footers), and compare them with
    DIR/manifest.json; look for missing and unexpected files; check the signature when
    --public-key is given.

    Exit status: 0 everything matches, 1 any mismatch, 2 DIR is not an export.
    """
    try:
        report = verify_export(directory, public_key, workers=workers)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, sort_keys=True, ensure_ascii=False))
    else:
        for line in report.lines():
            click.echo(line, err=not report.is_export)
    ctx.exit(report.exit_code)
