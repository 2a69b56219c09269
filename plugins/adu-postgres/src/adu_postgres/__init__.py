"""ADU PostgreSQL source: parallel binary COPY decoded in C, exact types, one snapshot.

See :mod:`adu_postgres.source` for the options and :mod:`adu_postgres.types` for the type
mapping.
"""

import importlib
from typing import Any

#: names imported on first use: ADU loads this package with every ``adu`` command (the
#: plugin module), which must stay cheap (``adu --help``)
_LAZY = {
    "NATIVE_DECODER": "adu_postgres.decoder:NATIVE",
    "PostgresSource": "adu_postgres.source",
}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr or name)


__all__ = ["NATIVE_DECODER", "PostgresSource"]
