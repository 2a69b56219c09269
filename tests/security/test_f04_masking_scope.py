"""Finding 4: one process-wide list of every typed password made a password oracle (a job
label holding guesses was shown to viewers with the right guess masked) and let a short
password (``e``) mask letters in every log line after it. Secrets are now scoped: a job's
to the job, a request's to the request."""

from __future__ import annotations

import io
import json
import logging

from adu_core.logs import JsonFormatter, RedactingFilter, job_thread
from adu_core.secrets import known_secrets, redact_text, remember_secret, secret_scope
from flask import Flask
from seckit import Client, SecWorld

TYPED = "Guess-Me-123"


def test_a_label_of_guesses_is_shown_as_written(world: SecWorld, app: Flask, operator: Client) -> None:
    # what earlier tests of this process remembered outside any job or request (the CLI run
    # in-process does) stays; the requests below must add nothing to it
    before = known_secrets()
    # another operator's job, with a typed password (kept encrypted for its worker)
    r = operator.api(
        "POST", "/api/jobs", {"source": "postgresql://someone@db.example/x", "target": "a", "password": TYPED}
    )
    assert r.status_code == 201, r.data
    label = f"guesses: {TYPED} Wrong-Guess-1 hunter2"
    r = operator.api(
        "POST",
        "/api/jobs",
        {"source": "postgresql://me@db.example/y", "target": "b", "password": "x" * 12, "name": label},
    )
    assert r.status_code == 201, r.data
    job_id = r.get_json()["id"]
    viewer = Client(app, "viewer")
    assert viewer.api("GET", f"/api/jobs/{job_id}").get_json()["name"] == label
    page = viewer.http.get(f"/job/{job_id}").get_data(as_text=True)
    assert TYPED in page and "Wrong-Guess-1" in page  # nothing tells the right guess apart
    assert known_secrets() == before and TYPED not in before  # nothing leaked into the test's own scope


def test_a_short_password_masks_nothing_outside_its_job() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("adu.test.f04")
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.INFO)
    with secret_scope("a" * 32):
        remember_secret("e")  # a (silly) one-letter password of job aaaa...
        log.info("job a connected with e", extra={"job_id": "a" * 32})
        with secret_scope(name="request"):  # another user's request, meanwhile
            log.info("signed in operator", extra={"user": "operator"})
            assert redact_text("operator") == "operator"
        with job_thread("a" * 32):  # a partition thread of job a: masked as the job
            log.info("partition done e")
    with secret_scope("b" * 32):
        log.info("job b: the audit trail of user peter", extra={"job_id": "b" * 32})
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    # inside job a, its password is masked (values only: the line stays well-formed)
    assert entries[0]["message"].endswith("with ***") and entries[0]["level"] == "INFO"
    assert entries[2]["message"] == "partition don*** ***"
    # ... and nowhere else
    assert entries[1]["message"] == "signed in operator" and entries[1]["user"] == "operator"
    assert entries[3]["message"] == "job b: the audit trail of user peter"
