"""The options a component takes, declared by the component, checked by the host.

Every source, sink and validator class publishes ``option_schema``, a tuple of
:class:`Option`; the CLI (``--source-option`` / ``--sink-option`` / ``adu plugins``), the
web form and the API render and check options from it, and the component's constructor
checks them again (:func:`check_options`), so an option is spelled, typed and documented
in exactly one place: its plugin.

Values arrive as text (``KEY=VALUE`` on a command line, a form field) or as JSON
(the API, a stored job spec). :func:`check_options` accepts either, refuses unknown keys
and bad values in one line naming what is allowed, and gives back typed values:
``int`` / ``float`` / ``bool`` for those types, the declared spelling for a choice, text
for ``str`` and ``size`` (``512MiB``, kept as typed so a job record reads as it was
written).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

from adu_core.errors import UsageError

OptionType = Literal["str", "int", "float", "bool", "size"]
OPTION_TYPES: tuple[str, ...] = ("str", "int", "float", "bool", "size")

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")
_SIZE = re.compile(r"^\s*\d+(\.\d+)?\s*([kmgt]i?)?b?\s*$", re.IGNORECASE)


@attrs.frozen
class Option:
    """One option of a component.

    :param name: the key (``compression``), lower case, as typed after ``--sink-option``.
    :param type: ``str``, ``int``, ``float``, ``bool`` or ``size`` (bytes: ``1048576``,
        ``512MiB``, ``1GB``).
    :param choices: the allowed values (matched ignoring case); None: any value of the type.
    :param default: the value when the option is not given (None: the component decides,
        as ``help`` says).
    :param help: one line for ``--help``, ``adu plugins`` and the web form.
    :param minimum: the smallest number allowed (``int``, ``float``, ``size``).
    :param web: False for options the web must not offer (a path or environment variable
        the server would read: such credentials belong in a named connection).
    """

    name: str
    type: OptionType = "str"
    choices: tuple[str, ...] | None = None
    default: Any = None
    help: str = ""
    minimum: float | None = None
    web: bool = True

    def __attrs_post_init__(self) -> None:
        if self.type not in OPTION_TYPES:
            raise ValueError(f"option {self.name!r}: type must be one of {', '.join(OPTION_TYPES)}")

    def describe(self) -> str:
        """``name=<choices or type> (default X)``: how ``--help`` and errors show it."""
        what = "|".join(self.choices) if self.choices else self.type
        default = "" if self.default is None else f" (default {format_value(self.default)})"
        return f"{self.name}={what}{default}"

    def to_dict(self) -> dict[str, Any]:
        """What ``adu plugins --json`` shows."""
        return {
            "name": self.name,
            "type": self.type,
            "choices": list(self.choices) if self.choices else None,
            "default": self.default,
            "help": self.help,
            "minimum": self.minimum,
            "web": self.web,
        }

    def check(self, value: Any, *, what: str = "option") -> Any:
        """``value`` checked and typed (see the module docstring).

        :param what: how the option is named in an error (``source option``).
        :raises UsageError: one line naming the option and what it takes.
        """
        bad = f"{what} {self.name} must be "
        if self.choices is not None:
            text = format_value(value).strip()
            for choice in self.choices:
                if text.lower() == choice.lower():
                    return choice
            raise UsageError(bad + f"one of: {', '.join(self.choices)} (not {text!r})")
        if self.type == "bool":
            text = format_value(value).strip().lower()
            if text in _TRUE or text in _FALSE:
                return text in _TRUE
            raise UsageError(bad + f"true or false (not {value!r})")
        if self.type in ("int", "float"):
            number = _number(value, self.type)
            if number is None:
                raise UsageError(bad + ("an integer" if self.type == "int" else "a number") + f" (not {value!r})")
            if self.minimum is not None and number < self.minimum:
                raise UsageError(bad + f"at least {format_value(self.minimum)} (not {number})")
            return number
        if self.type == "size":
            if isinstance(value, bool) or not _SIZE.match(str(value)):
                raise UsageError(bad + f"a size such as 1048576, 512MiB or 1GB (not {value!r})")
            return value
        if isinstance(value, (dict, list)):
            raise UsageError(bad + f"text (not {value!r})")
        return str(value)


def format_value(value: Any) -> str:
    """An option value as it is typed: booleans ``true``/``false``, whole floats without
    ``.0``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(value: Any, kind: str) -> int | float | None:
    if isinstance(value, bool):
        return None
    if kind == "int":
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return int(value) if value.is_integer() else None
        try:
            return int(str(value).strip())
        except ValueError:
            return None
    if isinstance(value, int):
        return value  # a whole number stays one (partition_mb=64, not 64.0)
    try:
        text = str(value).strip()
        return int(text) if text.lstrip("-").isdigit() else float(text)
    except (TypeError, ValueError):
        return None


def check_options(
    schema: Iterable[Option], values: Mapping[str, Any] | None, *, what: str, owner: str
) -> dict[str, Any]:
    """``values`` checked against ``schema``: typed values, unknown keys refused.

    A value None means "not given" and is dropped.

    :param what: the kind of option in messages (``source option``).
    :param owner: who takes them, in messages (``PostgreSQL``, ``parquet``).
    :raises UsageError: one line naming the unknown keys and the allowed ones, or the
        option whose value is bad and what it takes.
    """
    by_name = {o.name: o for o in schema}
    given = {str(k): v for k, v in (values or {}).items() if v is not None}
    unknown = sorted(k for k in given if k not in by_name)
    if unknown:
        allowed = ", ".join(sorted(by_name)) or "none"
        raise UsageError(f"unknown {owner} {what}(s): {', '.join(unknown)}; allowed: {allowed}")
    return {k: by_name[k].check(v, what=what) for k, v in given.items()}


def parse_pairs(pairs: Iterable[str], what: str) -> dict[str, str]:
    """``KEY=VALUE`` texts into a dict of texts (typed later by :func:`check_options`).

    :param what: how one pair is named in an error (``--source-option``).
    :raises UsageError: a pair without ``=`` or with an empty key.
    """
    out: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise UsageError(f"{what} must look like key=value, not {pair!r}")
        key, value = pair.split("=", 1)
        if not key.strip():
            raise UsageError(f"{what} needs a key before '=', not {pair!r}")
        out[key.strip()] = value.strip()
    return out


#: options every source takes: the engine reads them (what discovery lists), the
#: source's ``discover`` receives them as arguments
DISCOVERY_OPTIONS: tuple[Option, ...] = (
    Option("include_views", "bool", default=False, help="also list views and materialized views"),
    Option("include_foreign", "bool", default=False, help="also list foreign tables"),
)


#: options every validator takes: the engine gives them from the job (``adu export --rules``,
#: ``--no-validate``); a validator reads them, it does not declare them
VALIDATION_OPTIONS: tuple[Option, ...] = (
    Option("rules", help="a rules file, or module:Model (adu export --rules)"),
    Option("infer", "bool", default=True, help="check what the source declares (off: adu export --no-validate)"),
)
