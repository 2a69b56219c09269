"""Command-line options whose allowed values come from a plugin's option schema."""

from __future__ import annotations

from typing import Any

import click
from adu_core.errors import AduError


class ComponentChoice(click.Choice[str]):
    """The choices of one option of a component (``--compression``: the Parquet sink's
    ``compression``), looked up each time the option is used or shown in ``--help``: the
    plugins load only then, and a plugin's new choice needs no change here."""

    def __init__(self, kind: str, component: str, option: str) -> None:
        self.kind, self.component, self.option = kind, component, option
        super().__init__((), case_sensitive=False)

    @property
    def choices(self) -> tuple[str, ...]:
        from adu_core.services.plugins import option_choices

        try:
            return option_choices(self.kind, self.component, self.option)
        except AduError:
            return ()

    @choices.setter
    def choices(self, value: Any) -> None:  # click.Choice.__init__ assigns it: the schema decides
        pass

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if not self.choices:
            self.fail(f"the {self.component} {self.kind} is not installed (no {self.option} to choose)", param, ctx)
        result: str = super().convert(value, param, ctx)
        return result
