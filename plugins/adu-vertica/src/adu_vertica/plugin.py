"""Plugin hooks: registers the Vertica source.

Imported whenever plugins load (``adu --help`` included): the source's module
(vertica-python) is imported only when the hook runs.
"""

from __future__ import annotations

from adu_core.plugin import hookimpl
from adu_core.plugin.components import RegisterSource


@hookimpl
def adu_register_sources(register: RegisterSource) -> None:
    """Register :class:`VerticaSource` for ``vertica://`` URLs."""
    from adu_vertica.source import VerticaSource

    register(VerticaSource)
