"""ADU PostgreSQL source: parallel binary COPY decoded in C, exact types, one snapshot.

See :mod:`adu_postgres.source` for the options and :mod:`adu_postgres.types` for the type
mapping.
"""

from adu_postgres.decoder import NATIVE as NATIVE_DECODER
from adu_postgres.source import PostgresSource

__all__ = ["NATIVE_DECODER", "PostgresSource"]
