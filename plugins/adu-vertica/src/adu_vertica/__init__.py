"""ADU Vertica source through vertica-python; loading into Vertica: :mod:`adu_vertica.load`."""

from adu_vertica.source import VerticaSource

__all__ = ["VerticaSource"]
