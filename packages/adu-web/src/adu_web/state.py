"""What the app keeps between requests: the settings and the store."""

from __future__ import annotations

import attrs
from adu_core.config import Settings
from adu_core.store import Store
from flask import current_app


@attrs.define
class AduState:
    settings: Settings
    store: Store


def state() -> AduState:
    """The ADU state of the current app."""
    value: AduState = current_app.extensions["adu"]
    return value


def store() -> Store:
    return state().store


def settings() -> Settings:
    return state().settings
