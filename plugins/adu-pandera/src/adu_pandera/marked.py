"""The mapping a rules file is read into (:mod:`adu_pandera.yamlmarks` builds it), apart
from the YAML loader: checking rules need not import PyYAML unless a rules file is read."""

from __future__ import annotations

from typing import Any


class MarkedMap(dict[Any, Any]):
    """A mapping read from YAML, with the 1-based line of each key and of the map itself."""

    line: int
    key_lines: dict[Any, int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = 0
        self.key_lines = {}

    def line_of(self, key: Any) -> int:
        """The line of ``key`` (the map's own line when the key is absent)."""
        return self.key_lines.get(key, self.line)
