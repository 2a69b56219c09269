"""A YAML loader that remembers on which line every mapping key and value sits.

Rules files are checked before a job starts and every complaint names the line, so
the loader keeps the marks PyYAML already knows: each mapping becomes a
:class:`MarkedMap` (a plain ``dict`` with two extra attributes) and duplicate keys,
which PyYAML silently collapses, are refused.
"""

from __future__ import annotations

from typing import Any

import yaml
from adu_core.errors import UsageError

from adu_pandera.marked import MarkedMap

__all__ = ["MarkedMap", "load_marked"]


class _Loader(yaml.SafeLoader):
    """SafeLoader that builds :class:`MarkedMap` objects and refuses duplicate keys."""

    source_name = "<rules>"

    def construct_marked_mapping(self, node: yaml.MappingNode) -> MarkedMap:
        self.flatten_mapping(node)
        result = MarkedMap()
        result.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                hash(key)
            except TypeError:
                raise UsageError(f"{self.source_name}:{line}: a mapping key must be a plain value") from None
            if key in result:
                raise UsageError(
                    f"{self.source_name}:{line}: duplicate key {key!r} (first given on line {result.key_lines[key]})"
                )
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[key] = line
        return result

    def construct_lenient_timestamp(self, node: yaml.ScalarNode) -> Any:
        """A date-looking scalar that is no date (2024-13-01) stays a string, so the
        checks can say what they expected, with the line."""
        try:
            return self.construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_lenient_timestamp)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _Loader.construct_marked_mapping)


def load_marked(text: str, source_name: str) -> Any:
    """Parse ``text`` (named ``source_name`` in messages) keeping line numbers.

    :raises UsageError: on a YAML syntax error, with the line and PyYAML's reason.
    """
    loader = _Loader(text)
    loader.source_name = source_name
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        problem = exc.problem or exc.context or "invalid YAML"
        raise UsageError(f"{source_name}:{line}: not valid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{source_name}: not valid YAML: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise UsageError(f"{source_name}: nested too deeply to be a rules file") from None
    finally:
        loader.dispose()
