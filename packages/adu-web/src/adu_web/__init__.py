"""ADU web dashboard: a thin Flask frontend over the ADU job store and engine.

Use :func:`create_app` (one blueprint per feature); ``adu_web.wsgi:app`` is the WSGI
entry point for gunicorn (``gunicorn -c python:adu_web.gunicorn_conf adu_web.wsgi:app``).
"""

import os

# as in adu_cli/__init__.py: keep numpy's OpenBLAS from starting a spinning thread per core
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from adu_web.app import create_app  # after the environment is set

__all__ = ["create_app"]
