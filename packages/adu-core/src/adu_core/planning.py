"""Planning a job: what discovery lists and which tables the job's selection takes.

The job's ``include_views`` / ``include_foreign`` options are about discovery, not about
how the source reads, so the engine keeps them (:data:`DISCOVERY_OPTIONS`) and the source
is opened with the rest (:func:`reader_options`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adu_core.errors import UsageError
from adu_core.models import JobSpec, TableInfo
from adu_core.plugin.components import Source

#: job options about what discovery lists, not about how the source reads: the engine
#: keeps them, the source never sees them
DISCOVERY_OPTIONS = frozenset({"include_views", "include_foreign"})


def _flag(value: Any) -> bool:
    """An option's truth: ``True``, or the strings ``true``/``1``/``yes``/``on`` (a
    ``--source-option include_views=false`` must not read as true)."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


#: kinds of relation discovery leaves out unless asked: (what to call it, how to ask)
_HIDDEN_KINDS = {
    "view": ("view", "--views (source option include_views=true)"),
    "matview": ("materialized view", "--views (source option include_views=true)"),
    "foreign": ("foreign table", "--foreign (source option include_foreign=true)"),
}


def reader_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """A job's source options without :data:`DISCOVERY_OPTIONS` (what the source gets)."""
    return {k: v for k, v in options.items() if k not in DISCOVERY_OPTIONS}


def job_reader_options(spec: JobSpec, source_class: type[Source]) -> dict[str, Any]:
    """The options a job's source is opened with: :func:`reader_options`, plus the job's
    far-side ``profile`` (``JobSpec.profile``) when the source takes a ``profile`` option
    (a source without one writes its own types whatever the profile)."""
    out = reader_options(spec.source_options)
    given = out.get("profile")
    if given is not None and str(given) != spec.profile:
        raise UsageError(
            f"the profile is chosen with --profile ({spec.profile}), not the source option profile={given}"
        )
    if any(o.name == "profile" for o in source_class.all_options()):
        out["profile"] = spec.profile
    return out


def discovery_flags(options: Mapping[str, Any]) -> tuple[bool, bool]:
    """``(include_views, include_foreign)`` of a job's source options."""
    return _flag(options.get("include_views")), _flag(options.get("include_foreign"))


def plan_tables(source: Source, spec: JobSpec) -> tuple[list[TableInfo], list[TableInfo]]:
    """Discover the source: every table (views and foreign tables when the spec's
    ``include_views`` / ``include_foreign`` options ask), and those the spec selects
    (UsageError when none; a retry selects its ``retry_tables`` only, maybe none)."""
    views, foreign = discovery_flags(spec.source_options)
    if source.discover_matches and not spec.rules:
        # only the selected tables' columns are read; a rules file is checked against
        # every table of the source (it may name tables this job does not export)
        tables = source.discover(  # type: ignore[call-arg]
            include_views=views, include_foreign=foreign, match=spec.selection.may_match
        )
    else:
        tables = source.discover(include_views=views, include_foreign=foreign)
    try:
        selected = spec.selection.select(tables)
    except UsageError as exc:
        if views and foreign:
            raise
        # a view or a foreign table named without asking for them: say so
        everything = {t.qualified_name: t for t in source.discover(include_views=True, include_foreign=True)}
        for name in spec.selection.tables:
            hidden = everything.get(name)
            what = _HIDDEN_KINDS.get(hidden.kind) if hidden is not None else None
            if what is not None:
                raise UsageError(f"{name} is a {what[0]}: add {what[1]} to export it") from exc
        raise
    if spec.is_retry:
        wanted = set(spec.retry_tables)
        selected = [t for t in selected if t.qualified_name in wanted]
    if not selected and not spec.retry:  # a retry may only need its manifest written
        raise UsageError("no table matches the selection")
    return tables, selected
