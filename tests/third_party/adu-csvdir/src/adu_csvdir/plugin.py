"""The module the ``adu`` entry point names. ADU imports it whenever plugins load (``adu
--help`` included), so it imports nothing heavy: the source class only when the hook runs."""

from __future__ import annotations

from adu_core.plugin import hookimpl
from adu_core.plugin.components import RegisterSource


@hookimpl
def adu_register_sources(register: RegisterSource) -> None:
    from adu_csvdir.source import CsvDirSource

    register(CsvDirSource)
