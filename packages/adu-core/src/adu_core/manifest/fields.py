"""Reading a manifest's JSON fields: :class:`Fields` gives typed reads of one object (a
wrong or missing field is one :class:`ManifestError` naming it, ``tables[2].files[0].rows:
expected an integer, got 'x'``), and keeps what it did not read as the object's ``extra``
(the optional sections of a newer ADU, written back untouched)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath
from typing import Any

from adu_core.errors import UsageError


class ManifestError(UsageError):
    """A manifest that cannot be used, in one line naming the file and the problem.

    :param reason: ``missing`` (no manifest), ``json`` (not valid JSON), ``format`` (not
        an ADU manifest), ``version`` (newer than this ADU reads) or ``field`` (a field
        is missing or has the wrong type).
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason

    def located(self, where: str) -> ManifestError:
        """The same error with ``where`` (a file name) in front of the message."""
        return ManifestError(f"{where}: {self}", reason=self.reason)


def safe_relpath(path: Any) -> str | None:
    """``path`` when it is a plain relative POSIX path inside the export, else None."""
    if not isinstance(path, str) or not path or "\\" in path or "\x00" in path:
        return None
    p = PurePosixPath(path)
    if p.is_absolute() or any(part in ("..", ".", "") for part in path.split("/")):
        return None
    return p.as_posix()


def shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Fields:
    """Typed reads of one JSON object's fields; what was not read is ``extra``."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, Mapping):
            raise ManifestError(f"{where or 'the manifest'}: expected an object, got {shown(data)}", reason="field")
        self.data = data
        self.where = where
        self.read: set[str] = set()

    def _at(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, problem: str) -> ManifestError:
        return ManifestError(f"{self._at(key)}: {problem}", reason="field")

    def raw(self, key: str, *, optional: bool = False) -> Any:
        self.read.add(key)
        if key not in self.data:
            if optional:
                return None
            raise ManifestError(f"{self._at(key)}: missing", reason="field")
        return self.data[key]

    def text(self, key: str) -> str:
        value = self.raw(key)
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {shown(value)}")
        return value

    def opt_text(self, key: str, *, optional: bool = False) -> str | None:
        value = self.raw(key, optional=optional)
        if value is not None and not isinstance(value, str):
            raise self.fail(key, f"expected a string or null, got {shown(value)}")
        return value

    def integer(self, key: str) -> int:
        value = self.raw(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(key, f"expected an integer, got {shown(value)}")
        if value < 0:
            raise self.fail(key, f"must not be negative, got {value}")
        return value

    def flag(self, key: str) -> bool:
        value = self.raw(key)
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {shown(value)}")
        return value

    def obj(self, key: str, *, optional: bool = False) -> dict[str, Any] | None:
        value = self.raw(key, optional=optional)
        if value is None and optional:
            return None
        if not isinstance(value, Mapping):
            raise self.fail(key, f"expected an object, got {shown(value)}")
        return dict(value)

    def array(self, key: str) -> list[Any]:
        value = self.raw(key)
        if not isinstance(value, list):
            raise self.fail(key, f"expected a list, got {shown(value)}")
        return value

    def items(self, key: str) -> Iterator[tuple[str, Any]]:
        """``(where, item)`` of each element of the list field ``key``."""
        for i, item in enumerate(self.array(key)):
            yield f"{self._at(key)}[{i}]", item

    def extra(self) -> dict[str, Any]:
        return {k: v for k, v in self.data.items() if k not in self.read}


def merge_extra(known: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    return {**extra, **known}
