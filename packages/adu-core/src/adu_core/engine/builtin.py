"""The built-in executors (``thread``, ``process``) as a plugin.

Imported whenever plugins load (``adu --help`` included), so it imports nothing: the
executors' module (the partition runner, pyarrow) is imported when the registry is first
asked for a component.
"""

from __future__ import annotations

from adu_core.plugin import hookimpl
from adu_core.plugin.components import RegisterExecutor


@hookimpl
def adu_register_executors(register: RegisterExecutor) -> None:
    from adu_core.engine.executors import ProcessExecutor, ThreadExecutor

    register(ThreadExecutor)
    register(ProcessExecutor)
