"""Plugin hooks: registers the Vertica source."""

from __future__ import annotations

from adu_core.plugin import hookimpl
from adu_core.plugin.components import RegisterSource

from adu_vertica.source import VerticaSource


@hookimpl
def adu_register_sources(register: RegisterSource) -> None:
    """Register :class:`VerticaSource` for ``vertica://`` URLs."""
    register(VerticaSource)
