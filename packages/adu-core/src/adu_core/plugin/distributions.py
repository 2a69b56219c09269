"""The installed distributions ADU asks about — entry points of one group, versions — read
without :mod:`importlib.metadata`.

``importlib.metadata`` makes a ``Distribution`` of every ``*.dist-info`` on ``sys.path``
and parses every one's ``entry_points.txt`` to answer ``entry_points(group="adu")``; its
import alone brings ``email``, ``zipfile`` and ``csv``: ~25 ms of CPU in every ``adu``
process that loads plugins (issue 19: a 1-row export's fixed cost). Here the ``sys.path``
folders are listed once, a version is the one in the ``{name}-{version}.dist-info`` folder's
name (the packaging specification's rule for installed distributions), and an
``entry_points.txt`` is parsed only when it names the group.

The answers are ``importlib.metadata``'s: distributions in ``sys.path`` order, the first
of a (normalized) name only. What this cannot read — a zip file or egg on ``sys.path``, an
import hook (``sys.meta_path``) with distributions of its own — is asked of
``importlib.metadata``.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import re
import sys
import threading
from typing import Any, NamedTuple

_SUFFIXES = (".dist-info", ".egg-info")
#: the entry point value's syntax (``importlib.metadata.EntryPoint.pattern``)
_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$")


class EntryPoint(NamedTuple):
    """One entry point: ``name = value`` in a distribution's ``entry_points.txt``."""

    name: str
    value: str
    group: str
    #: the distribution's version (None when its folder name does not say it)
    version: str | None

    def load(self) -> Any:
        """The object the entry point names (its module imported; ``module:attr.attr``)."""
        match = _VALUE.match(self.value)
        if match is None:
            raise ValueError(f"entry point {self.name!r}: not a module or module:attribute: {self.value!r}")
        obj: Any = importlib.import_module(match.group("module"))
        for attr in filter(None, (match.group("attr") or "").split(".")):
            obj = getattr(obj, attr)
        return obj


class _Dist(NamedTuple):
    path: str
    version: str | None


def normalize(name: str) -> str:
    """A distribution name as the packaging specification compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


_lock = threading.Lock()
#: (the sys.path and sys.meta_path it was read for, distributions by normalized name) — None:
#: importlib.metadata
_cache: tuple[tuple[Any, ...], dict[str, _Dist] | None] | None = None


def _distributions() -> dict[str, _Dist] | None:
    """The distributions on ``sys.path`` by normalized name (the first of each name), or
    None when some entry cannot be read this way (ask ``importlib.metadata``)."""
    global _cache
    # read again when the path, the import hooks or a folder's entries change (an install)
    key = (*sys.path, *(id(f) for f in sys.meta_path), *(_mtime(e) for e in sys.path))
    with _lock:
        if _cache is not None and _cache[0] == key:
            return _cache[1]
        if any(
            f is not importlib.machinery.PathFinder and getattr(f, "find_distributions", None) is not None
            for f in sys.meta_path
        ):  # another finder lists distributions of its own: only importlib.metadata asks it
            _cache = (key, None)
            return None
        found: dict[str, _Dist] = {}
        for entry in sys.path:
            try:
                with os.scandir(entry or ".") as it:
                    names = [e.name for e in it if e.name.endswith(_SUFFIXES)]
            except NotADirectoryError:  # a zip file or an egg: importlib.metadata reads those
                _cache = (key, None)
                return None
            except OSError:
                continue  # missing or unreadable: importlib.metadata skips it too
            for name in names:
                dist, _, version = name.rsplit(".", 1)[0].partition("-")
                found.setdefault(normalize(dist), _Dist(os.path.join(entry, name), version.split("-")[0] or None))
        _cache = (key, found)
        return found


def _mtime(entry: str) -> int:
    try:
        return os.stat(entry or ".").st_mtime_ns
    except OSError:
        return 0


def version(name: str) -> str | None:
    """The installed version of the distribution ``name``, or None when it is not installed."""
    dists = _distributions()
    if dists is None:
        from importlib import metadata

        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None
    dist = dists.get(normalize(name))
    return _version(dist) if dist is not None else None


def _version(dist: _Dist) -> str | None:
    """The version in the folder's name, else the ``Version:`` header of its metadata (a
    ``name.egg-info`` folder)."""
    if dist.version is not None:
        return dist.version
    for meta in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(dist.path, meta), encoding="utf-8") as f:
                for line in f:
                    if not line.strip():
                        break  # the end of the headers
                    if line.lower().startswith("version:"):
                        return line.split(":", 1)[1].strip()
        except OSError:
            continue
    return None


def entry_points(group: str) -> list[EntryPoint]:
    """Every entry point of ``group``, distributions in ``sys.path`` order."""
    dists = _distributions()
    if dists is None:
        from importlib import metadata

        return [
            EntryPoint(ep.name, ep.value, group, ep.dist.version if ep.dist is not None else None)
            for ep in metadata.entry_points(group=group)
        ]
    header = f"[{group}]"
    out: list[EntryPoint] = []
    for dist in dists.values():
        try:
            with open(os.path.join(dist.path, "entry_points.txt"), encoding="utf-8") as f:
                text = f.read()
        except OSError:
            continue
        if header in text:
            out += _parse(text, group, _version(dist))
    return out


def _parse(text: str, group: str, version: str | None) -> list[EntryPoint]:
    """The ``group`` section of an ``entry_points.txt`` (an INI file: ``[group]``, then
    ``name = value`` lines; ``#`` starts a comment, as for importlib.metadata)."""
    out: list[EntryPoint] = []
    section = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        if section == group and "=" in line:
            name, _, value = line.partition("=")
            out.append(EntryPoint(name.strip(), value.strip(), group, version))
    return out
