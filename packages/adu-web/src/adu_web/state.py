"""What the app keeps between requests (the services' context) and who acts in this
request."""

from __future__ import annotations

from adu_core.config import Settings
from adu_core.services.context import Actor, Context
from flask import current_app, request
from flask_login import current_user


def ctx() -> Context:
    """The services' context of the current app."""
    value: Context = current_app.extensions["adu"]
    return value


def settings() -> Settings:
    return ctx().settings


def actor() -> Actor:
    """The signed-in account, through the pages or the JSON API (recorded in audit events)."""
    return Actor.account(current_user.username, api=request.path.startswith("/api/"))
