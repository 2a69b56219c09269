"""What is loaded: plugins, their versions and components, and those that failed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from adu_core.services.context import Context

if TYPE_CHECKING:
    from adu_core.plugin.manager import PluginRecord


@attrs.frozen
class PluginReport:
    plugins: list[PluginRecord]
    errors: list[str]


def describe(ctx: Context | None = None) -> PluginReport:
    """The loaded plugins and the one-line errors of those that failed to load (of
    ``ctx``'s plugin manager; default: the process-wide one, no settings needed)."""
    if ctx is not None:
        pm = ctx.plugins
    else:
        from adu_core.plugin.manager import get_plugins

        pm = get_plugins()
    return PluginReport(plugins=pm.describe(), errors=list(pm.errors))
