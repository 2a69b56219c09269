"""The plugin manager and its typed facade.

Built-in plugins are named in :data:`BUILTIN_PLUGINS` (imported by module name, so
``adu_core`` never imports a plugin package statically); third-party plugins load from the
``adu`` entry-point group, each in its own ``try``: a broken plugin is reported in one line
and the host goes on. ``ADU_BLOCK_PLUGINS=name1,name2`` blocks plugins by name.

A job's plugins travel with it: :meth:`Plugins.portable` describes the registered set
(names, modules, blocked names) as a picklable :class:`PluginSet` that a worker process
rebuilds with :meth:`PluginSet.build`, so its partitions see exactly the plugins the job
was planned with, not whatever that process would load on its own.
"""

from __future__ import annotations

import importlib
import logging
import os
import pickle
import threading
from collections.abc import Iterable
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import attrs
import pluggy

from adu_core.errors import UsageError
from adu_core.models import JobResult, JobSpec, TableResult
from adu_core.plugin import PROJECT_NAME, distributions, spec
from adu_core.plugin.components import Executor, LoadSink, Sink, Source, Validator

log = logging.getLogger(__name__)

#: Built-in plugins: (name, module). Missing distributions are skipped quietly.
BUILTIN_PLUGINS: tuple[tuple[str, str], ...] = (
    ("executors", "adu_core.engine.builtin"),
    ("duckdb", "adu_duckdb.plugin"),
    ("parquet", "adu_parquet.plugin"),
    ("postgres", "adu_postgres.plugin"),
    ("pandera", "adu_pandera.plugin"),
    ("vertica", "adu_vertica.plugin"),
)

BLOCK_ENV = "ADU_BLOCK_PLUGINS"


@attrs.define
class PluginRecord:
    """What ``adu plugins`` shows about one loaded plugin."""

    name: str
    module: str
    version: str | None
    builtin: bool
    provides: list[str] = attrs.field(factory=list)


#: the component kinds: (registration hook, kind as named in messages and ``provides``,
#: :class:`Registry` attribute), in the order ``provides`` lists them
KINDS: tuple[tuple[str, str, str], ...] = (
    ("adu_register_sources", "source", "sources"),
    ("adu_register_sinks", "sink", "sinks"),
    ("adu_register_validators", "validator", "validators"),
    ("adu_register_executors", "executor", "executors"),
    ("adu_register_load_sinks", "load sink", "load_sinks"),
)


@attrs.define
class Registry:
    """The components registered by plugins, by name.

    Filled one kind at a time (:meth:`Plugins.registry` fills every kind): finding an
    export's source class need not import every plugin's load sinks.
    """

    sources: dict[str, type[Source]] = attrs.field(factory=dict)
    sinks: dict[str, type[Sink]] = attrs.field(factory=dict)
    validators: dict[str, type[Validator]] = attrs.field(factory=dict)
    executors: dict[str, type[Executor]] = attrs.field(factory=dict)
    load_sinks: dict[str, type[LoadSink]] = attrs.field(factory=dict)
    owners: dict[str, str] = attrs.field(factory=dict)
    #: the kinds collected so far
    kinds: set[str] = attrs.field(factory=set)


class Plugins:
    """Typed facade over the pluggy manager: loads plugins, registers components and
    calls hooks by keyword."""

    def __init__(
        self, *, load_builtins: bool = True, load_entrypoints: bool = True, blocked: Iterable[str] | None = None
    ) -> None:
        self.pm = pluggy.PluginManager(PROJECT_NAME)
        self.pm.add_hookspecs(spec)
        self.records: dict[str, PluginRecord] = {}
        self.errors: list[str] = []
        self._registry: Registry | None = None
        if blocked is None:
            blocked = (b.strip() for b in os.environ.get(BLOCK_ENV, "").split(","))
        #: names never registered (``ADU_BLOCK_PLUGINS`` unless given)
        self.blocked = frozenset(b for b in blocked if b)
        for name in self.blocked:
            self.pm.set_blocked(name)
        if load_builtins:
            for name, module in BUILTIN_PLUGINS:
                if name in self.blocked:
                    continue
                try:
                    mod = importlib.import_module(module)
                except ModuleNotFoundError as exc:
                    if exc.name and module.startswith(exc.name):
                        continue  # the distribution is not installed
                    self._failed(name, exc)
                    continue
                except Exception as exc:  # noqa: BLE001 - one broken plugin must not stop the host
                    self._failed(name, exc)
                    continue
                self.register(mod, name=name, builtin=True)
        if load_entrypoints:
            self._load_entrypoints(self.blocked)
        self.pm.check_pending()

    # -- loading ---------------------------------------------------------------------

    def _failed(self, name: str, exc: BaseException) -> None:
        line = f"plugin {name!r} failed to load: {type(exc).__name__}: {exc}".splitlines()[0]
        self.errors.append(line)
        log.warning(line)

    def _load_entrypoints(self, blocked: frozenset[str]) -> None:
        for ep in distributions.entry_points(PROJECT_NAME):
            if ep.name in blocked or self.pm.get_plugin(ep.name) is not None:
                continue
            if any(r.module == ep.value for r in self.records.values()):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # noqa: BLE001
                self._failed(ep.name, exc)
                continue
            self.register(plugin, name=ep.name, builtin=False, version=ep.version)

    def register(self, plugin: Any, *, name: str, builtin: bool = False, version: str | None = None) -> None:
        """Register ``plugin`` under ``name`` (and forget the cached registry)."""
        if self.pm.is_blocked(name):
            return
        self.pm.register(plugin, name=name)
        module = plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__module__
        if version is None:
            version = _dist_version(module)
        self.records[name] = PluginRecord(name=name, module=module, version=version, builtin=builtin)
        self._registry = None

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self.records.pop(name, None)
        self._registry = None

    # -- components --------------------------------------------------------------------

    @property
    def registry(self) -> Registry:
        """Every component of every kind (each kind's hooks run once)."""
        return self._kinds(*(kind for _, kind, _ in KINDS))

    def _kinds(self, *kinds: str) -> Registry:
        """The registry with (at least) the components of ``kinds`` collected: their
        plugins' registration hooks run (and their modules are imported) only now."""
        reg = self._registry
        if reg is None:
            for rec in self.records.values():
                rec.provides.clear()
            reg = self._registry = Registry()
        missing = [k for k in KINDS if k[1] in kinds and k[1] not in reg.kinds]
        if missing:
            self._collect(reg, missing)
        return reg

    def _collect(self, reg: Registry, kinds: list[tuple[str, str, str]]) -> None:
        def adder(kind: str, table: dict[str, Any], owner: str) -> Any:
            def add(cls: Any) -> None:
                name = getattr(cls, "name", None)
                if not isinstance(name, str) or not name:
                    raise UsageError(f"plugin {owner!r} registered a {kind} without a name")
                key = f"{kind}:{name}"
                options = [o.name for o in (cls.all_options())]
                if len(set(options)) != len(options):
                    raise UsageError(f"plugin {owner!r}: {kind} {name!r} declares an option twice: {sorted(options)}")
                if key in reg.owners:
                    raise UsageError(f"{kind} {name!r} is registered by both {reg.owners[key]!r} and {owner!r}")
                reg.owners[key] = owner
                table[name] = cls
                rec = self.records.get(owner)
                if rec is not None:
                    rec.provides.append(f"{kind}:{name}")

            return add

        for hook_name, kind, attribute in kinds:
            table = getattr(reg, attribute)
            for plugin_name in list(self.records):
                plugin = self.pm.get_plugin(plugin_name)
                if plugin is None:
                    continue
                impl = getattr(plugin, hook_name, None)
                if impl is not None:
                    impl(register=adder(kind, table, plugin_name))
            reg.kinds.add(kind)

    def source_class(self, url: str) -> type[Source]:
        """The source class that opens ``url`` (:meth:`Source.accepts`; when several do,
        the one whose ``schemes`` name the URL's scheme, else the first registered).

        :raises UsageError: when none does.
        """
        sources = list(self._kinds("source").sources.values())
        accepting = [cls for cls in sources if cls.accepts(url)]
        try:
            scheme = urlsplit(url).scheme.lower()
        except ValueError:
            scheme = ""
        for cls in accepting:
            if scheme in cls.schemes:
                return cls
        if accepting:
            return accepting[0]
        if not scheme:
            raise UsageError(f"not a source URL: {_short(url)!r} (expected scheme://...)")
        known = sorted(s for c in sources for s in c.schemes)
        raise UsageError(f"unknown source scheme {scheme!r}; known: {', '.join(known) or 'none'}")

    def open_source(self, url: str, options: dict[str, Any] | None = None) -> Source:
        return self.source_class(url)(url, options or {})

    def sink_class(self, name: str) -> type[Sink]:
        try:
            return self._kinds("sink").sinks[name]
        except KeyError:
            known = ", ".join(sorted(self._kinds("sink").sinks)) or "none"
            raise UsageError(f"unknown sink {name!r}; known: {known}") from None

    def load_sink_class(self, url: str) -> type[LoadSink]:
        """The load sink that writes to ``url`` (:meth:`LoadSink.accepts`).

        :raises UsageError: when none does (naming the schemes that are known).
        """
        sinks = list(self._kinds("load sink").load_sinks.values())
        for cls in sinks:
            if cls.accepts(url):
                return cls
        try:
            scheme = urlsplit(url).scheme.lower()
        except ValueError:
            scheme = ""
        known = sorted(s for c in sinks for s in c.schemes)
        if not scheme:
            raise UsageError(
                f"not a target URL: {_short(url)!r} (expected {', '.join(k + '://' for k in known) or 'scheme://'}...)"
            )
        raise UsageError(f"no load sink writes to {scheme}:// targets; known: {', '.join(known) or 'none'}")

    def validator_classes(self) -> list[type[Validator]]:
        return list(self._kinds("validator").validators.values())

    def owner(self, kind: str, name: str) -> str:
        """The plugin that registered the ``kind`` component ``name`` ("?" when none did)."""
        return self._kinds(kind).owners.get(f"{kind}:{name}", "?")

    def components(self) -> list[tuple[str, type[Source] | type[Sink] | type[Validator]]]:
        """``(kind, class)`` of every registered component: sources, sinks, validators."""
        reg = self._kinds("source", "sink", "validator")
        out: list[tuple[str, type[Source] | type[Sink] | type[Validator]]] = []
        out += [("source", c) for c in reg.sources.values()]
        out += [("sink", c) for c in reg.sinks.values()]
        out += [("validator", c) for c in reg.validators.values()]
        return out

    # -- commands ----------------------------------------------------------------------

    def add_commands(self, cli: Any, *, reserved: Iterable[str] = ()) -> dict[str, str]:
        """Let every plugin add its commands to ``cli`` (``adu_register_commands``).

        A plugin that fails, or adds a command named like one in ``reserved`` or one another
        plugin added, is reported in :attr:`errors` (one line) and the rest go on.
        Returns ``{command name: plugin name}`` of the commands added.
        """
        added: dict[str, str] = {}
        taken = set(reserved)
        for impl in self.pm.hook.adu_register_commands.get_hookimpls():
            before = dict(getattr(cli, "commands", {}))
            try:
                impl.function(cli=cli)
            except Exception as exc:  # noqa: BLE001 - one broken plugin must not stop the CLI
                self._failed(impl.plugin_name, exc)
            after = getattr(cli, "commands", {})
            for name in [n for n in after if n not in before or after[n] is not before[n]]:
                if name in taken:
                    line = f"plugin {impl.plugin_name!r} tried to add the command {name!r}, which exists already"
                    self.errors.append(line)
                    log.warning(line)
                    if name in before:
                        after[name] = before[name]
                    else:
                        del after[name]
                    continue
                taken.add(name)
                added[name] = impl.plugin_name
        return added

    def executor_names(self) -> list[str]:
        """The registered executors' names, sorted."""
        return sorted(self._kinds("executor").executors)

    def executor_class(self, name: str) -> type[Executor]:
        """The executor registered as ``name``; :class:`UsageError` when there is none."""
        try:
            return self._kinds("executor").executors[name]
        except KeyError:
            known = ", ".join(["auto", *self.executor_names()])
            raise UsageError(f"executor must be one of {known}, not {name!r} (ADU_EXECUTOR)") from None

    # -- other processes ---------------------------------------------------------------

    def portable(self) -> PluginSet:
        """A picklable description of the registered plugins, in registration order.

        A module travels by name; any other plugin object travels pickled (an instance of a
        class its module defines at top level, with its attributes). A plugin that cannot
        be pickled is left out, with a warning: its components exist only in this process.
        """
        refs = []
        for name, rec in self.records.items():
            plugin = self.pm.get_plugin(name)
            if plugin is None:
                continue
            if isinstance(plugin, ModuleType):
                refs.append(PluginRef(name=name, module=plugin.__name__, builtin=rec.builtin, version=rec.version))
                continue
            try:
                payload = pickle.dumps(plugin)
            except Exception as exc:  # noqa: BLE001 - any pickling failure means "cannot travel"
                log.warning("plugin %r cannot be sent to other processes (%s): they run without it", name, exc)
                continue
            refs.append(
                PluginRef(name=name, module=rec.module, builtin=rec.builtin, version=rec.version, pickled=payload)
            )
        return PluginSet(plugins=tuple(refs), blocked=self.blocked)

    # -- lifecycle hooks ---------------------------------------------------------------

    def job_started(self, *, job_id: str, spec: JobSpec) -> None:
        self._notify("adu_job_started", job_id=job_id, spec=spec.redacted())

    def table_finished(self, *, job_id: str, result: TableResult) -> None:
        self._notify("adu_table_finished", job_id=job_id, result=result)

    def job_finished(self, *, job_id: str, result: JobResult) -> None:
        self._notify("adu_job_finished", job_id=job_id, result=result)

    def _notify(self, hook_name: str, **kwargs: Any) -> None:
        hook = getattr(self.pm.hook, hook_name)
        for impl in hook.get_hookimpls():
            try:
                impl.function(**{k: kwargs[k] for k in impl.argnames})
            except Exception:
                log.exception("plugin %s failed in %s", impl.plugin_name, hook_name)

    def describe(self) -> list[PluginRecord]:
        """Every loaded plugin with its version and what it provides (in the order of
        :data:`KINDS`, whatever order the kinds were collected in)."""
        _ = self.registry
        order = {kind: i for i, (_, kind, _) in enumerate(KINDS)}
        for rec in self.records.values():
            rec.provides.sort(key=lambda p: order.get(p.rpartition(":")[0], len(order)))
        return sorted(self.records.values(), key=lambda r: (not r.builtin, r.name))


@attrs.frozen
class PluginRef:
    """One registered plugin, as :meth:`Plugins.portable` describes it.

    :param module: the plugin module (or the module of the plugin object's class).
    :param pickled: the pickled plugin object; None when the plugin is ``module`` itself.
    """

    name: str
    module: str
    builtin: bool
    version: str | None
    pickled: bytes | None = None

    def load(self) -> Any:
        """The plugin object: the module imported, or the object unpickled."""
        if self.pickled is None:
            return importlib.import_module(self.module)
        return pickle.loads(self.pickled)  # noqa: S301 - written by this job's own coordinator


@attrs.frozen
class PluginSet:
    """The plugins of a job, picklable: what a worker process needs to rebuild them."""

    plugins: tuple[PluginRef, ...]
    blocked: frozenset[str] = frozenset()

    def build(self) -> Plugins:
        """A :class:`Plugins` with exactly these plugins (no built-in or entry point of its own).

        A plugin that fails to load here is reported in :attr:`Plugins.errors` and logged,
        as at start-up; the others are registered.
        """
        plugins = Plugins(load_builtins=False, load_entrypoints=False, blocked=self.blocked)
        for ref in self.plugins:
            try:
                obj = ref.load()
            except Exception as exc:  # noqa: BLE001 - one broken plugin must not stop the worker
                plugins._failed(ref.name, exc)
                continue
            plugins.register(obj, name=ref.name, builtin=ref.builtin, version=ref.version)
        plugins.pm.check_pending()
        return plugins


def _dist_version(module: str) -> str | None:
    top = module.split(".")[0]
    return distributions.version(top)


def _short(text: str) -> str:
    from adu_core.secrets import redact_text

    return redact_text(text)[:80]


_lock = threading.Lock()
_default: Plugins | None = None


def get_plugins() -> Plugins:
    """The process-wide plugin manager, created on first use."""
    global _default
    with _lock:
        if _default is None:
            _default = Plugins()
        return _default


def set_plugins(plugins: Plugins | None) -> None:
    """Replace the process-wide manager (tests, embedding applications)."""
    global _default
    with _lock:
        _default = plugins
