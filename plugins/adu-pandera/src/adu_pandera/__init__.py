"""ADU validator: pandera checks on the Arrow batches.

See :mod:`adu_pandera.validator` (the validator and what runs where),
:mod:`adu_pandera.rules` (the rules-file format), :mod:`adu_pandera.inferred` (what is
checked without a rules file) and :mod:`adu_pandera.models` (DataFrameModels).
"""

import importlib
from typing import Any

#: names imported on first use: ADU loads this package with every ``adu`` command (the
#: plugin module), which must stay cheap (``adu --help``)
_LAZY = {
    "PanderaTableValidator": "adu_pandera.validator",
    "PanderaValidator": "adu_pandera.validator",
}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr or name)


__all__ = ["PanderaTableValidator", "PanderaValidator"]
