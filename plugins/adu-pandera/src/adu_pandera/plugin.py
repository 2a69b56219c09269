"""Plugin hooks: registers the ``pandera`` validator."""

from __future__ import annotations

from adu_core.plugin import hookimpl
from adu_core.plugin.components import RegisterValidator

from adu_pandera.validator import PanderaValidator


@hookimpl
def adu_register_validators(register: RegisterValidator) -> None:
    register(PanderaValidator)
