"""WSGI entry point: ``gunicorn -c python:adu_web.gunicorn_conf adu_web.wsgi:app``.

Settings come from the environment (see the README's table); in production
(``ADU_ENV=production``) the app refuses to start without a real ``ADU_SECRET_KEY``.
"""

from __future__ import annotations

from adu_core import config
from adu_core.logs import setup_service_logging

from adu_web.app import create_app

_settings = config.load()
setup_service_logging(_settings.log_dir, _settings.log_level, stdout=_settings.log_stdout)
app = create_app(_settings)
