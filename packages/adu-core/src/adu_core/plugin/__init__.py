"""ADU's plugin system: the ``hookimpl`` marker, the hook specifications and the manager.

A plugin is a module (or object) with functions marked ``@hookimpl`` whose names are hooks
of :mod:`adu_core.plugin.spec`. Third-party plugins announce themselves with an entry point
in the ``adu`` group::

    [project.entry-points.adu]
    myplugin = "my_package.adu_plugin"
"""

from __future__ import annotations

import pluggy

PROJECT_NAME = "adu"

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
hookspec = pluggy.HookspecMarker(PROJECT_NAME)

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]
