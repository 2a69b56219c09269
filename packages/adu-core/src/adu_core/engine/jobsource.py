"""A job's source, opened ahead of its run: :func:`open_job_source` starts its connections
in the background while the job is claimed and planned (the runner takes it when it is
the source the job would open, :func:`opened_for`), and :func:`source_plan` says which
source a job reads with which options."""

from __future__ import annotations

from typing import Any

import attrs

from adu_core import config as config_mod
from adu_core.connections import resolve_source
from adu_core.models import JobSpec
from adu_core.planning import job_reader_options
from adu_core.plugin.components import Source
from adu_core.plugin.manager import Plugins


@attrs.define
class OpenedSource:
    """A job's source, opened and warming up (:meth:`Source.warm_up`): its connections
    open in the background meanwhile.

    :param key: what the source was opened for (URL, reader options, executor, readers):
        a job whose own key differs opens its own.
    """

    url: str
    source: Source
    read_options: dict[str, Any]
    in_process: bool
    key: tuple[Any, ...]


def open_job_source(
    spec: JobSpec, password: str | None, *, settings: config_mod.Settings, plugins: Plugins, executor: str
) -> OpenedSource:
    """The export ``spec``'s source URL and source, its connections opening in the
    background (the coordinator's, the snapshot's, and the readers' when the partitions run
    in this process: see :meth:`Source.warm_up`).

    A job of one named table is often one partition, read on the coordinator's
    connection: its spare readers wait for its plan (:meth:`JobRunner._run_partitions`);
    several tables need them early.
    """
    url, read_options, source_class = source_plan(spec, password, settings, plugins)
    source = plugins.open_source(url, read_options)
    in_process = executor == "thread" or (executor == "auto" and source.reads_release_gil)
    key = opened_for(spec, url, read_options, source_class, executor, in_process)
    source.warm_up(readers=key[-1])
    return OpenedSource(url=url, source=source, read_options=read_options, in_process=in_process, key=key)


def opened_for(
    spec: JobSpec, url: str, read_options: dict[str, Any], source_class: type[Source], executor: str, in_process: bool
) -> tuple[Any, ...]:
    """What a source is opened for (:attr:`OpenedSource.key`), its last item the spare
    readers it opens ahead: ``parallel`` - 1 when the partitions run in this process and the
    job has several tables or is a delta, else none (one named table, exported whole, waits
    for its plan: a small one is one partition, and a big one's reads last long enough to
    open them then). A delta is short and its changed rows are split from 10,000 of them:
    a spare reader opened after its plan was ~15 ms of TLS and authentication on the way of
    its second partition (a tenth of a 1% delta of 3M rows)."""
    ahead = not spec.selection.one_table or spec.after is not None
    readers = max(0, spec.parallel - 1) if in_process and ahead else 0
    return (url, repr(sorted(read_options.items())), source_class, executor, readers)


def source_plan(
    spec: JobSpec, password: str | None, settings: config_mod.Settings, plugins: Plugins
) -> tuple[str, dict[str, Any], type[Source]]:
    """The source URL of ``spec`` (a named connection resolved, ``password`` filled in),
    its reader options and the source plugin's class."""
    url = resolve_source(spec.source, password=password, connections_file=settings.connections_file)
    source_class = plugins.source_class(url)
    return url, job_reader_options(spec, source_class), source_class
