"""ADU Vertica source through vertica-python."""

from adu_vertica.source import VerticaSource

__all__ = ["VerticaSource"]
