"""New job: pick a named connection or type a URL, discover tables, choose, submit.

With scripts on, *Discover* fetches the table list into the page (the password field
keeps its value); with scripts off the form posts and the page comes back with the list
(the password is never sent back in a page, so it has to be typed again).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from itertools import groupby
from typing import Any

from adu_core.errors import UsageError
from adu_core.models import PROFILES, JobSpec, TableInfo, TableSelection, parse_cursor
from adu_core.options import parse_option_lines
from adu_core.secrets import redact_url
from adu_core.services.plugins import source_component
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from adu_web import option_fields, services
from adu_web.auth import require_login, role_required
from adu_web.state import settings

log = logging.getLogger("adu.web")

bp = Blueprint("new_job", __name__)
bp.before_request(require_login)

MAX_NAMES = 10000


class NewJobForm(FlaskForm):  # type: ignore[misc]
    connections: list[services.ConnectionRef]
    connections_error: str | None
    connection_names: set[str]
    #: the option fields, from the plugins' schemas (see adu_web.option_fields)
    source_sections: list[option_fields.OptionSection]
    sink_section: option_fields.OptionSection | None

    name = StringField("Label", validators=[Optional(), Length(max=200)])
    connection = StringField("Named connection", validators=[Optional(), Length(max=200)])
    url = StringField("or source URL", validators=[Optional(), Length(max=2000)])
    password = PasswordField("Password", validators=[Optional(), Length(max=1024)])
    source_options = TextAreaField(
        "Source options",
        validators=[Optional(), Length(max=4000)],
        description="Or as text: one KEY=VALUE per line, e.g. include_views=true (these win over the fields).",
    )
    target = StringField("Output directory", validators=[Optional(), Length(max=4000)])
    parallel = IntegerField("Parallel partitions", validators=[InputRequired(), NumberRange(1, services.MAX_PARALLEL)])
    rules = StringField("Rules file", validators=[Optional(), Length(max=4000)])
    validate_data = BooleanField("Validate while exporting", default=True)
    overwrite = BooleanField("Replace an existing export in the directory")
    profile = SelectField(
        "Far-side profile",
        choices=[SelectChoice(p, p) for p in PROFILES],
        default="portable",
        description="portable: every file opens in DuckDB, polars, pandas and Spark; exact: Parquet UUID, TIME"
        " and wide decimals for readers that have them.",
    )
    cursors = TextAreaField(
        "Cursor columns",
        validators=[Optional(), Length(max=4000)],
        description="Incremental exports: one schema.table=COLUMN per line (a monotonically increasing column); "
        "the manifest records where each one stood.",
    )
    after_last = BooleanField("Delta: only the rows past the last export of this source (its watermarks)")

    def source(self) -> str:
        conn = self.connection.data or ""
        url = (self.url.data or "").strip()
        if conn and url:
            raise UsageError("choose a named connection or type a URL, not both")
        if conn:
            if conn not in self.connection_names:
                raise UsageError(f"no named connection {conn!r}")
            return "@" + conn
        if not url:
            raise UsageError("choose a named connection or type a source URL")
        return url

    def options(self) -> dict[str, Any]:
        """The source options: the fields of the section of the source the job opens, then
        those typed as text."""
        typed = parse_option_lines(self.source_options.data or "", "a source option")
        source = self.source()
        fields: dict[str, Any] = {}
        if any(option_fields.chosen(self, s) for s in self.source_sections):
            name = source_component(source, connections_file=settings().connections_file).name
            section = next((s for s in self.source_sections if s.name == name), None)
            fields = option_fields.chosen(self, section)
        return {**fields, **typed}

    def sink_options(self) -> dict[str, Any]:
        """The sink options chosen in the sink's fields."""
        return option_fields.chosen(self, self.sink_section)


def _form() -> NewJobForm:
    cls, sources, sink = option_fields.form_class(NewJobForm, set(dir(NewJobForm)))
    form: NewJobForm = cls()
    form.source_sections, form.sink_section = sources, sink
    form.connections, form.connections_error = services.connection_refs()
    form.connection_names = {r.name for r in form.connections}
    if request.method == "GET":
        form.parallel.data = min(settings().parallel, services.MAX_PARALLEL)
    root = settings().export_root
    form.target.description = (
        f"Inside {root} (relative paths start there)." if root else "An absolute path on the server."
    )
    return form


def _grouped(tables: Iterable[TableInfo]) -> list[tuple[str, list[TableInfo]]]:
    return [(schema, list(group)) for schema, group in groupby(tables, key=lambda t: t.schema)]


def _names(field: str) -> list[str]:
    values = request.form.getlist(field)
    if len(values) > MAX_NAMES:
        raise UsageError("too many tables chosen at once")
    return [v for v in values if v and len(v) <= 2000]


def _discover(form: NewJobForm) -> tuple[list[tuple[str, list[TableInfo]]], str | None]:
    try:
        source, password = services.split_password(form.source(), form.password.data)
        tables = services.discover(source, password, form.options())
    except UsageError as exc:
        return [], str(exc)
    if not tables:
        return [], "The source lists no tables."
    return _grouped(tables), None


@bp.route("/jobs/new", methods=["GET", "POST"])
@role_required("operator")
def new() -> Any:
    form = _form()
    groups: list[tuple[str, list[TableInfo]]] = []
    error = None
    discovered = False
    if request.method == "POST":
        action = request.form.get("action", "submit")
        if not form.validate_on_submit():
            error = "Check the fields marked below."
        elif action == "discover":
            groups, error = _discover(form)
            discovered = True
        else:
            try:
                job_id = _submit(form)
            except UsageError as exc:
                error = str(exc)
            else:
                flash("Job queued.", "info")
                return redirect(url_for("jobs.show", job_id=job_id))
    if form.url.data:  # a password typed inside the URL is never sent back in a page
        form.url.data = redact_url(form.url.data.strip(), mask="")
    status = 400 if error and request.method == "POST" else 200
    return render_template(
        "new_job.html",
        form=form,
        groups=groups,
        error=error,
        discovered=discovered,
        chosen=set(request.form.getlist("table")),
        chosen_schemas=set(request.form.getlist("schema")),
    ), status


@bp.route("/jobs/new/discover", methods=["POST"])
@role_required("operator")
def discover_partial() -> Any:
    """The table chooser alone (fetched by the page's script)."""
    form = _form()
    if not form.validate_on_submit():
        return render_template(
            "_tables.html",
            groups=[],
            error="Check the form fields first.",
            discovered=True,
            chosen=set(),
            chosen_schemas=set(),
        ), 400
    groups, error = _discover(form)
    return render_template(
        "_tables.html", groups=groups, error=error, discovered=True, chosen=set(), chosen_schemas=set()
    ), (400 if error else 200)


def _submit(form: NewJobForm) -> str:
    tables = _names("table")
    schemas = _names("schema")
    if not tables and not schemas:
        raise UsageError("choose at least one table (discover the source first)")
    spec = JobSpec(
        source=form.source(),
        target=form.target.data or "",
        selection=TableSelection(
            schemas=tuple(services.table_pattern(s) for s in schemas),
            tables=tuple(services.table_pattern(t) for t in tables),
        ),
        sink=option_fields.WEB_SINK,
        sink_options=form.sink_options(),
        source_options=form.options(),
        rules=form.rules.data or None,
        validate=bool(form.validate_data.data),
        parallel=int(form.parallel.data or 1),
        overwrite=bool(form.overwrite.data),
        name=form.name.data or None,
        profile=form.profile.data or "portable",
        cursors=dict(parse_cursor(line.strip()) for line in (form.cursors.data or "").splitlines() if line.strip()),
        after="last" if form.after_last.data else None,
    )
    return services.submit(spec, password=form.password.data or None)
