"""The option fields of the new-job form, rendered from the plugins' option schemas.

Every source gets a section of fields (named ``so-<source>-<option>``; only the section
of the source the job opens is used), the web's sink one section whose fields carry the
option's own name (``compression``). A choice or a yes/no is a select whose first entry,
"default", leaves the option out; other types are text fields, typed and checked by the
schema when the job is submitted. Options the web must not set (``Option.web`` false: a
path or variable the server would read) get no field.
"""

from __future__ import annotations

import re
from typing import Any

import attrs
from adu_core.plugin.options import Option, format_value
from adu_core.services.plugins import ComponentInfo, components
from wtforms import Field, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

#: the sink web jobs write with
WEB_SINK = "parquet"
_NAME = re.compile(r"^[A-Za-z0-9_]+$")


@attrs.frozen
class OptionField:
    option: Option
    field_name: str


@attrs.frozen
class OptionSection:
    """One component's fields."""

    kind: str
    name: str
    title: str
    fields: tuple[OptionField, ...]


def _field(option: Option) -> Field:
    default = "" if option.default is None else f" ({format_value(option.default)})"
    if option.choices or option.type == "bool":
        values = option.choices or ("true", "false")
        choices = [SelectChoice("", "default" + default)]
        choices += [SelectChoice(v, {"true": "yes", "false": "no"}.get(v, v)) for v in values]
        return SelectField(option.name, choices=choices, default="", validators=[Optional()], description=option.help)
    hint = {"int": "a whole number", "float": "a number", "size": "bytes, or 512MiB, 1GB"}.get(option.type, "")
    description = "; ".join(p for p in (option.help, hint) if p)
    return StringField(
        option.name,
        validators=[Optional(), Length(max=1000)],
        description=description + (f" Default: {format_value(option.default)}." if option.default is not None else ""),
    )


def _section(component: ComponentInfo, name_of: Any) -> OptionSection:
    fields = tuple(
        OptionField(option=o, field_name=name_of(o)) for o in component.options if o.web and _NAME.match(o.name)
    )
    return OptionSection(kind=component.kind, name=component.name, title=component.title, fields=fields)


def form_class(base: type, reserved: set[str]) -> tuple[type, list[OptionSection], OptionSection | None]:
    """A subclass of the form ``base`` with a field per option, and the sections: one per
    source, and the web sink's (None when it is not installed).

    :param reserved: field names ``base`` has (a sink option so named gets ``sink_`` in front).
    """
    attrs_: dict[str, Any] = {}
    sources: list[OptionSection] = []
    sink: OptionSection | None = None
    for c in components():
        if c.kind == "source" and _NAME.match(c.name):
            section = _section(c, lambda o, c=c: f"so_{c.name}__{o.name}")
            sources.append(section)
        elif c.kind == "sink" and c.name == WEB_SINK:
            section = sink = _section(c, lambda o: f"sink_{o.name}" if o.name in reserved else o.name)
        else:
            continue
        for f in section.fields:
            attrs_[f.field_name] = _field(f.option)
    return type(f"{base.__name__}WithOptions", (base,), attrs_), sources, sink


def chosen(form: Any, section: OptionSection | None) -> dict[str, str]:
    """The options filled in (non-empty) in ``section``'s fields, as typed."""
    out: dict[str, str] = {}
    for f in section.fields if section is not None else ():
        value = getattr(form, f.field_name).data
        if value not in (None, ""):
            out[f.option.name] = str(value).strip()
    return out
