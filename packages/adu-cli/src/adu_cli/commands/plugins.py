"""``adu plugins``: what is loaded, what each plugin provides, and every component's options."""

from __future__ import annotations

import click
from adu_core.plugin.options import format_value
from adu_core.services.plugins import plugin_report

from adu_cli.context import echo_json, handle_errors


def _plugin_commands(ctx: click.Context) -> dict[str, str]:
    """``{command: plugin}`` of the commands plugins added to the root group."""
    root = ctx.find_root().command
    loaded = getattr(root, "plugin_commands", None)
    if loaded is None and isinstance(root, click.Group):
        root.list_commands(ctx)  # loads them
        loaded = getattr(root, "plugin_commands", None)
    return dict(loaded or {})


@click.command(name="plugins")
@click.option("--json", "as_json", is_flag=True, help="Print plugins and components (with their options) as JSON.")
@click.option("--options/--no-options", "show_options", default=True, help="List each component's options.")
@click.pass_context
@handle_errors
def command(ctx: click.Context, as_json: bool, show_options: bool) -> None:
    """List loaded plugins, their versions and what each provides, and the options of
    every source, sink and validator (what --source-option / --sink-option take)."""
    report = plugin_report(_plugin_commands(ctx))
    if as_json:
        echo_json(
            {
                "plugins": [p.to_dict() for p in report.plugins],
                "components": [c.to_dict() for c in report.components],
                "errors": list(report.errors),
            }
        )
        return
    for p in report.plugins:
        kind = "built-in" if p.builtin else "third-party"
        click.echo(f"{p.name:<12} {p.version or '?':<10} {kind:<12} {', '.join(p.provides) or '(observer hooks only)'}")
    if show_options:
        for c in report.components:
            if not c.options:
                continue
            click.echo(f"\n{c.kind} {c.name} ({c.title}) options:")
            for o in c.options:
                default = "" if o.default is None else f" [default: {format_value(o.default)}]"
                click.echo(f"  {o.describe().split(' (default')[0]:<40} {o.help}{default}")
    for err in report.errors:
        click.echo(f"error: {err}", err=True)
