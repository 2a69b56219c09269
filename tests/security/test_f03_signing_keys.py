"""Finding 3: the API's sign_key took any server path (arbitrary data signed with a key
the service could read) and its errors told whether a file exists. Now web and API jobs
name a key an admin registered; a path is refused with the same message whether or not
it exists."""

from __future__ import annotations

from pathlib import Path

from adu_core.engine import run_job
from adu_core.models import JobStatus
from adu_core.signing import write_key_pair
from adu_duckdb.demo import make_demo_database
from seckit import Client, SecWorld


def test_a_path_is_refused_and_says_nothing_of_the_file(world: SecWorld, operator: Client) -> None:
    key, _pub, _id = write_key_pair(world.root / "server-signing")
    demo = world.files / "demo.duckdb"
    make_demo_database(str(demo))
    messages = set()
    for path in (str(key), str(world.root / "missing.key"), "/etc/shadow", "../../server-signing.key"):
        r = operator.api("POST", "/api/jobs", {"source": f"duckdb://{demo}", "target": "s", "sign_key": path})
        assert r.status_code == 400, r.data
        messages.add(r.get_json()["message"])
    assert len(messages) == 1  # one answer whatever exists on the server
    assert "registered" in messages.pop()


def test_a_registered_key_signs(world: SecWorld, operator: Client) -> None:
    from adu_core.verify import verify_export

    key, pub, _id = write_key_pair(world.root / "release")
    (world.root / "connections.yaml").write_text(f"connections: {{}}\nkeys:\n  release:\n    path: {key}\n")
    demo = world.files / "demo.duckdb"
    make_demo_database(str(demo))
    r = operator.api("POST", "/api/jobs", {"source": f"duckdb://{demo}", "target": "signed", "sign_key": "release"})
    assert r.status_code == 201, r.data
    job = r.get_json()
    assert job["spec"]["sign_key"] == "@release"  # the name is stored, never a path
    world.store.claim_job("w", job_id=job["id"])
    result = run_job(world.store, job["id"], settings=world.settings, executor="thread")
    assert result.status == JobStatus.SUCCEEDED
    report = verify_export(Path(world.root / "exports" / "signed"), public_key=pub)
    assert report.ok and report.signature == "valid"
