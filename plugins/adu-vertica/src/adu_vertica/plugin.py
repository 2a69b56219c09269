"""Plugin hooks: registers the Vertica source and load sink.

Imported whenever plugins load (``adu --help`` included): the source's module
(vertica-python) is imported only when the hook runs.
"""

from __future__ import annotations

from adu_core.plugin import hookimpl
from adu_core.plugin.components import RegisterLoadSink, RegisterSource


@hookimpl
def adu_register_sources(register: RegisterSource) -> None:
    """Register :class:`VerticaSource` for ``vertica://`` URLs."""
    from adu_vertica.source import VerticaSource

    register(VerticaSource)


@hookimpl
def adu_register_load_sinks(register: RegisterLoadSink) -> None:
    """Register :class:`VerticaLoadSink` for ``vertica://`` targets."""
    from adu_vertica.loadsink import VerticaLoadSink

    register(VerticaLoadSink)
