"""Plugin hooks: registers the ``pandera`` validator.

Imported whenever plugins load (``adu --help`` included): pandera and polars are imported
only when the hook runs.
"""

from __future__ import annotations

from adu_core.plugin import hookimpl
from adu_core.plugin.components import RegisterValidator


@hookimpl
def adu_register_validators(register: RegisterValidator) -> None:
    from adu_pandera.validator import PanderaValidator

    register(PanderaValidator)
