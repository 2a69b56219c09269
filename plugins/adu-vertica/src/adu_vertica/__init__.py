"""ADU Vertica source through vertica-python; loading into Vertica: :mod:`adu_vertica.load`."""

import importlib
from typing import Any

#: names imported on first use: ADU loads this package with every ``adu`` command (the
#: plugin module), which must stay cheap (``adu --help``)
_LAZY = {
    "VerticaSource": "adu_vertica.source",
}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr or name)


__all__ = ["VerticaSource"]
