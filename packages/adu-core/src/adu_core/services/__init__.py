"""The application layer: the one place where ADU's rules about jobs and accounts live.

The CLI, the web app and notebooks call these functions; they parse input and render
output, nothing else (they never import the store, the engine, the worker or the plugin
manager). Every call takes a :class:`Context` (settings, store, plugins) and, for a change,
the :class:`Actor` who asks, so the same audit event is recorded whoever calls.

Modules (each imported on first use: ``from adu_core.services import jobs``):

* :mod:`~adu_core.services.context`: :class:`Context`, :class:`Actor`.
* :mod:`~adu_core.services.jobs`: submit, list, show, cancel, retry.
* :mod:`~adu_core.services.running`: run a job in this process (``adu export``, ``adu demo``,
  ``adu jobs retry``, notebooks).
* :mod:`~adu_core.services.discovery`: what a source holds.
* :mod:`~adu_core.services.policy`: what a job from the web may do.
* :mod:`~adu_core.services.accounts`: web accounts and the last-admin rule.
* :mod:`~adu_core.services.connections`: named connections as pages may show them.
* :mod:`~adu_core.services.workers`: workers that run queued jobs.
* :mod:`~adu_core.services.plugins`: what the plugins provide: components, their option
  schemas, option checks, and the commands plugins add to the CLI.
* :mod:`~adu_core.services.formatting`, :mod:`~adu_core.services.progress`: sizes, durations
  and live progress for terminals and Jupyter.
* :mod:`~adu_core.services.notebook`: ``adu_core.export()``, ``discover()``, ``jobs()``.
* :mod:`~adu_core.services.exports`: verify and open an export.
"""

from __future__ import annotations

from adu_core.services.context import Actor, Context

__all__ = ["Actor", "Context"]
