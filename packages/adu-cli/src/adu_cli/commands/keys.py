"""``adu keys generate``: an Ed25519 key pair for signing export manifests."""

from __future__ import annotations

import click
from adu_core import signing

from adu_cli.context import handle_errors


@click.group("keys")
def group() -> None:
    """Manage the keys that sign export manifests."""


@group.command("generate")
@click.option(
    "--out",
    "prefix",
    default="adu-signing",
    show_default=True,
    help="Path prefix: writes PREFIX.key (private, mode 0600) and PREFIX.pub (public).",
)
@handle_errors
def generate(prefix: str) -> None:
    """Make an Ed25519 key pair. Keep PREFIX.key on the exporting side (adu export
    --sign-key PREFIX.key); give PREFIX.pub to the far side (adu verify --public-key).
    Existing files are never overwritten."""
    private, public, kid = signing.write_key_pair(prefix)
    click.echo(f"private key: {private} (keep it secret; mode 0600)")
    click.echo(f"public key:  {public}")
    click.echo(f"key id:      {kid}")
