"""Finding 3: the API's sign_key took any server path (arbitrary data signed with a key
the service could read) and its errors told whether a file exists. Now web and API jobs
name a key an admin registered; a path is refused with the same message whether or not
it exists."""

from __future__ import annotations

from pathlib import Path

import pytest
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


def test_the_cli_signs_with_a_key_by_name(tmp_path: Path) -> None:
    from adu_cli.main import cli
    from click.testing import CliRunner

    key, pub, _id = write_key_pair(tmp_path / "release")
    conns = tmp_path / "connections.yaml"
    conns.write_text(f"keys:\n  release:\n    path: {key}\n")
    demo = tmp_path / "demo.duckdb"
    make_demo_database(str(demo))
    env = {"ADU_DATA_DIR": str(tmp_path / "data"), "ADU_CONNECTIONS_FILE": str(conns), "ADU_ENV": "test"}
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["export", str(demo), "--out", str(out), "--sign-key", "@release"], env=env)
    assert r.exit_code == 0, r.output
    from adu_core.verify import verify_export

    assert verify_export(out, public_key=pub).signature == "valid"
    r = CliRunner().invoke(cli, ["export", str(demo), "--out", str(tmp_path / "o2"), "--sign-key", "@nope"], env=env)
    assert r.exit_code != 0 and "no signing key named 'nope'" in r.output


def test_admins_see_the_key_names_only(world: SecWorld) -> None:
    from adu_core.services import Context
    from adu_web import create_app

    key, _pub, _id = write_key_pair(world.root / "nightly")
    (world.root / "connections.yaml").write_text(f"keys:\n  nightly: {key}\n")
    app = create_app(world.settings, Context(world.settings, store=world.store))
    page = Client(app, "admin").http.get("/admin/").get_data(as_text=True)
    assert "<code>nightly</code>" in page and str(key) not in page
    assert "No named connections." in page  # a file of keys only is not a broken file


def test_a_broken_registered_key_fails_without_its_path(world: SecWorld, operator: Client) -> None:
    from adu_core.errors import UsageError

    hidden = world.root / "admins-only" / "gone.key"
    (world.root / "connections.yaml").write_text(f"keys:\n  gone: {hidden}\n")
    demo = world.files / "demo.duckdb"
    make_demo_database(str(demo))
    r = operator.api("POST", "/api/jobs", {"source": f"duckdb://{demo}", "target": "g", "sign_key": "gone"})
    assert r.status_code == 201, r.data
    job_id = r.get_json()["id"]
    world.store.claim_job("w", job_id=job_id)
    with pytest.raises(UsageError, match="registered signing key") as info:
        run_job(world.store, job_id, settings=world.settings, executor="thread")
    assert str(hidden) not in str(info.value)
    job = operator.api("GET", f"/api/jobs/{job_id}").get_data(as_text=True)
    assert job and str(hidden) not in job
