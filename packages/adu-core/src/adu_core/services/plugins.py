"""What the plugins provide, for the frontends: components with their option schemas,
option checking for a job, and the commands plugins add to the ``adu`` command line.

The frontends never touch the plugin manager; they ask here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from adu_core.errors import UsageError
from adu_core.plugin.options import Option


@attrs.frozen
class ComponentInfo:
    """A registered source, sink or validator, as ``adu plugins`` and the web form show it.

    :param options: every option a job may give it (for a source, the discovery options
        first).
    """

    kind: str
    name: str
    title: str
    description: str
    plugin: str
    options: tuple[Option, ...]
    schemes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "plugin": self.plugin,
            "options": [o.to_dict() for o in self.options],
        }
        if self.kind == "source":
            out["schemes"] = list(self.schemes)
        return out


@attrs.frozen
class PluginInfo:
    """A loaded plugin: its version and what it provides (``source:postgresql``...)."""

    name: str
    module: str
    version: str | None
    builtin: bool
    provides: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "module": self.module,
            "version": self.version,
            "builtin": self.builtin,
            "provides": list(self.provides),
        }


@attrs.frozen
class PluginReport:
    """Everything ``adu plugins`` shows; ``errors``: plugins that failed to load (one line
    each)."""

    plugins: tuple[PluginInfo, ...]
    components: tuple[ComponentInfo, ...]
    errors: tuple[str, ...]


def _plugins() -> Any:
    from adu_core.plugin.manager import get_plugins

    return get_plugins()


def components() -> list[ComponentInfo]:
    """Every registered component, sources first, then sinks and validators."""
    pm = _plugins()
    return [_info(pm, kind, cls) for kind, cls in pm.components()]


def _info(pm: Any, kind: str, cls: Any) -> ComponentInfo:
    return ComponentInfo(
        kind=kind,
        name=cls.name,
        title=cls.title or cls.name,
        description=cls.description,
        plugin=pm.owner(kind, cls.name),
        options=tuple(cls.all_options()),
        schemes=tuple(getattr(cls, "schemes", ())),
    )


def plugin_report(commands: Mapping[str, str] | None = None) -> PluginReport:
    """The loaded plugins and their components.

    :param commands: ``{command: plugin}`` of the commands plugins added to the CLI
        (listed in each plugin's ``provides`` as ``command:NAME``).
    """
    pm = _plugins()
    records = pm.describe()
    plugins = tuple(
        PluginInfo(
            name=r.name,
            module=r.module,
            version=r.version,
            builtin=r.builtin,
            provides=tuple(r.provides)
            + tuple(f"command:{c}" for c, p in sorted((commands or {}).items()) if p == r.name),
        )
        for r in records
    )
    return PluginReport(plugins=plugins, components=tuple(components()), errors=tuple(pm.errors))


def add_commands(cli: Any, *, reserved: Iterable[str] = ()) -> dict[str, str]:
    """Let every plugin add its commands to the click group ``cli``
    (``adu_register_commands``); returns ``{command: plugin}``. A plugin that fails, or
    names a command in ``reserved``, is reported in :func:`plugin_errors`."""
    result: dict[str, str] = _plugins().add_commands(cli, reserved=reserved)
    return result


def plugin_errors() -> list[str]:
    """One line per plugin that failed to load or to add its commands."""
    return list(_plugins().errors)


# ------------------------------------------------------------------------------ options


def source_component(source: str, *, connections_file: Path | None = None) -> ComponentInfo:
    """The source component that opens ``source`` (a URL, a bare path it accepts, or
    ``@name`` of a named connection, looked up in ``connections_file``).

    :raises UsageError: no source opens it, or no such named connection.
    """
    url = source
    if source.startswith("@"):
        from adu_core import config, connections

        path = connections_file if connections_file is not None else config.load().connections_file
        conn = connections.load_connections(path).get(source[1:])
        if conn is None:
            raise UsageError(f"unknown named connection {source!r}")
        url = conn.url
    pm = _plugins()
    return _info(pm, "source", pm.source_class(url))


def sink_component(name: str) -> ComponentInfo:
    """The sink named ``name``. :raises UsageError: no such sink (naming the known ones)."""
    pm = _plugins()
    return _info(pm, "sink", pm.sink_class(name))


def _check(component: ComponentInfo, options: Mapping[str, Any] | None) -> dict[str, Any]:
    from adu_core.plugin.options import check_options

    return check_options(component.options, options, what=f"{component.kind} option", owner=component.title)


def check_source_options(
    source: str, options: Mapping[str, Any] | None, *, connections_file: Path | None = None
) -> dict[str, Any]:
    """``options`` for the source that opens ``source``, checked and typed.

    :raises UsageError: one line naming an unknown key (and the allowed ones) or a bad
        value (and what it takes).
    """
    return _check(source_component(source, connections_file=connections_file), options)


def check_sink_options(sink: str, options: Mapping[str, Any] | None) -> dict[str, Any]:
    """``options`` for the sink named ``sink``, checked and typed (see
    :func:`check_source_options`)."""
    return _check(sink_component(sink), options)


def option_choices(kind: str, name: str, option: str) -> tuple[str, ...]:
    """The declared choices of one option (``--compression`` takes the Parquet sink's
    ``compression`` choices); () when the component or option has none."""
    for c in components():
        if c.kind == kind and c.name == name:
            for o in c.options:
                if o.name == option:
                    return o.choices or ()
    return ()
