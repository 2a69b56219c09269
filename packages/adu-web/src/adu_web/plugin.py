"""adu-web as an ADU plugin: it brings the ``adu serve`` command.

Loaded from the ``adu`` entry-point group whenever plugins load (``adu --help``
included), so this module imports nothing heavy: the command (and Flask, gunicorn) is
imported only when the hook runs.
"""

from __future__ import annotations

from typing import Any

from adu_core.plugin import hookimpl


@hookimpl
def adu_register_commands(cli: Any) -> None:
    """``adu serve``: the dashboard with embedded workers."""
    from adu_web.commands import serve_command

    cli.add_command(serve_command())
