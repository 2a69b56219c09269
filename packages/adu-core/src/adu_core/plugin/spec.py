"""Hook specifications, grouped by stage.

Every hook is prefixed ``adu_`` and is called with keyword arguments only, through the
typed facade :class:`adu_core.plugin.manager.Plugins`.

Components (sources, validators, sinks, load sinks, executors) arrive through ``adu_register_*`` hooks that take
a ``register`` callback, so the host owns naming and duplicate checks. The job lifecycle
hooks let observers (an audit trail, a notifier) follow jobs; they must not raise: an
exception in an observer is logged and the job goes on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adu_core.plugin import hookspec

if TYPE_CHECKING:
    from adu_core.models import JobResult, JobSpec, TableResult
    from adu_core.plugin.components import (
        RegisterExecutor,
        RegisterLoadSink,
        RegisterSink,
        RegisterSource,
        RegisterValidator,
    )


# ----------------------------------------------------------------------------- sources


@hookspec
def adu_register_sources(register: RegisterSource) -> None:
    """Register source classes.

    :param register: call ``register(SourceClass)``; the class's ``name`` and ``schemes``
        say what it is called and which URL schemes it opens. A name registered twice is
        refused with a clear error naming both plugins.
    """


# -------------------------------------------------------------------------- validators


@hookspec
def adu_register_validators(register: RegisterValidator) -> None:
    """Register validator classes.

    :param register: call ``register(ValidatorClass)``; every registered validator runs
        on every exported table it has checks for.
    """


# ------------------------------------------------------------------------------- sinks


@hookspec
def adu_register_sinks(register: RegisterSink) -> None:
    """Register sink classes.

    :param register: call ``register(SinkClass)``; a job names its sink by ``name``.
    """


@hookspec
def adu_register_load_sinks(register: RegisterLoadSink) -> None:
    """Register load sinks: databases an export is loaded into (``adu load``).

    :param register: call ``register(LoadSinkClass)``, a subclass of
        :class:`adu_core.plugin.components.LoadSink`; its ``schemes`` say which target URLs
        it writes to (``postgresql://``, ``duckdb:///file.duckdb``). A name registered
        twice is refused with a clear error naming both plugins.
    """


# ---------------------------------------------------------------------------- frontends


@hookspec
def adu_register_commands(cli: Any) -> None:
    """Add commands to the ``adu`` command line.

    Called when the CLI lists its commands (``adu --help``) or meets a name it does not
    know, so the plugin module must stay cheap to import: define the commands inside the
    hook and import what they need (``click`` included) inside it or inside the commands.

    :param cli: the ``adu`` command group, a :class:`click.Group` (typed loosely so
        ``adu_core`` does not need click): ``cli.add_command(command)``, or decorate
        with ``@cli.command("name")``. A command whose name the CLI already has is
        refused (reported in one line, the CLI's own is kept). Raise
        :class:`adu_core.errors.UsageError` for bad input: the CLI prints it in one
        line and exits with 2 (``AduError``: 1).
    """


# --------------------------------------------------------------------------- executors


@hookspec
def adu_register_executors(register: RegisterExecutor) -> None:
    """Register executor classes: where and how a job runs its partitions (the executor
    hookspec, ``adu_executor``).

    ``thread`` and ``process`` are built in (:mod:`adu_core.engine.executors`, registered by
    :mod:`adu_core.engine.builtin`); a job runs
    on the executor ``ADU_EXECUTOR`` names (``auto``: one of the two built-ins), so a
    plugin's executor (a cluster) is used only when asked for by name.

    :param register: call ``register(ExecutorClass)``, a subclass of
        :class:`adu_core.plugin.components.Executor`; its ``name`` is the value of
        ``ADU_EXECUTOR`` that selects it. A name registered twice is refused with a clear
        error naming both plugins.
    """


# ------------------------------------------------------------------------ job lifecycle


@hookspec
def adu_job_started(job_id: str, spec: JobSpec) -> None:
    """A job has started running.

    :param job_id: the job's id in the store.
    :param spec: the job's spec, without secrets.
    """


@hookspec
def adu_table_finished(job_id: str, result: TableResult) -> None:
    """A table of a job has finished (succeeded, failed or cancelled).

    :param job_id: the job's id in the store.
    :param result: the table's status, counts, files, validation and error.
    """


@hookspec
def adu_job_finished(job_id: str, result: JobResult) -> None:
    """A job has finished, whatever its status.

    :param job_id: the job's id in the store.
    :param result: the job's status and every table's result.
    """
