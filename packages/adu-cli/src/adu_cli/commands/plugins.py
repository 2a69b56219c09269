"""``adu plugins``: what is loaded."""

from __future__ import annotations

import click
from adu_core.services.plugins import describe

from adu_cli.context import echo_json, handle_errors


@click.command(name="plugins")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def command(as_json: bool) -> None:
    """List loaded plugins, their versions and what each provides."""
    pm = describe()
    records = pm.plugins
    if as_json:
        echo_json(
            {
                "plugins": [
                    {
                        "name": r.name,
                        "module": r.module,
                        "version": r.version,
                        "builtin": r.builtin,
                        "provides": r.provides,
                    }
                    for r in records
                ],
                "errors": pm.errors,
            }
        )
        return
    for r in records:
        kind = "built-in" if r.builtin else "third-party"
        click.echo(f"{r.name:<12} {r.version or '?':<10} {kind:<12} {', '.join(r.provides) or '(observer hooks only)'}")
    for err in pm.errors:
        click.echo(f"error: {err}", err=True)
