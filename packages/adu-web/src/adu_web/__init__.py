"""ADU web dashboard: a thin Flask frontend over the ADU job store and engine.

Use :func:`create_app` (one blueprint per feature); ``adu_web.wsgi:app`` is the WSGI
entry point for gunicorn (``gunicorn -c python:adu_web.gunicorn_conf adu_web.wsgi:app``).
"""

from adu_web.app import create_app

__all__ = ["create_app"]
