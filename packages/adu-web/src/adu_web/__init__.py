"""ADU web dashboard: a thin Flask frontend over the ADU job store and engine.

Use :func:`create_app` (one blueprint per feature); ``adu_web.wsgi:app`` is the WSGI
entry point for gunicorn (``gunicorn -c python:adu_web.gunicorn_conf adu_web.wsgi:app``).
"""

import os

# as in adu_cli/__init__.py: keep numpy's OpenBLAS from starting a spinning thread per core
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adu_web.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # imported on first use: the `adu` command line loads adu_web.plugin (for `adu serve`)
    # on every start and must not pay for Flask then
    if name == "create_app":
        from adu_web.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
