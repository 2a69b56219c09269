"""The chain checker (`adu verify D1 D2 D3`, `adu verify D2 --chain D1`) on real exports of
a real PostgreSQL: a missing delta, a delta twice, two swapped, an edited link and a delta
signed with another key are each named; an empty delta is a valid link."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from adu_core.manifest import canonical_json, seal
from adu_core.services.exports import verify_chain
from adu_core.signing import write_key_pair
from inc_helpers import export

ADU = [str(Path(sys.executable).with_name("adu"))]


@pytest.fixture(scope="module")
def chain(pg, tmp_path_factory):
    """D1 (full), D2, D3 (deltas, D3 empty) signed with key A; D2b: D2 again from the
    same D1 (a second delta after the same export); D2k: D2's rows signed with key B."""
    from adu_core.config import load
    from adu_core.store import Store

    base = tmp_path_factory.mktemp("chain")
    db = pg.create_database("chain")
    db.execute(
        "CREATE TABLE public.t (id int PRIMARY KEY, v int, ts bigint);"
        "INSERT INTO public.t SELECT g, g, g FROM generate_series(1, 100) g"
    )
    key_a = write_key_pair(base / "a")
    key_b = write_key_pair(base / "b")
    mp = pytest.MonkeyPatch()
    mp.setenv("ADU_DATA_DIR", str(base / "data"))
    mp.delenv("ADU_STORE_URL", raising=False)
    store = Store.from_settings(load())
    d = {name: base / name for name in ("d1", "d2", "d2b", "d2k", "d3")}
    try:
        common = {"cursors": {"public.t": "ts"}}
        export(store, db, pg.password, d["d1"], ("public.t",), sign_key=str(key_a[0]), **common)
        db.execute("UPDATE public.t SET v = -1, ts = 200 WHERE id = 7; INSERT INTO public.t VALUES (101, 1, 201)")
        export(store, db, pg.password, d["d2"], ("public.t",), sign_key=str(key_a[0]), after=str(d["d1"]))
        export(store, db, pg.password, d["d2b"], ("public.t",), sign_key=str(key_a[0]), after=str(d["d1"]))
        export(store, db, pg.password, d["d2k"], ("public.t",), sign_key=str(key_b[0]), after=str(d["d1"]))
        export(store, db, pg.password, d["d3"], ("public.t",), sign_key=str(key_a[0]), after=str(d["d2"]))
    finally:
        store.dispose()
        mp.undo()
        db.drop()
    return {"dirs": d, "pub_a": key_a[1], "pub_b": key_b[1], "base": base}


def _problems(report) -> list[str]:
    return [p for link in report.links for p in link.problems]


def test_a_whole_chain_verifies_and_an_empty_delta_is_a_valid_link(chain):
    d = chain["dirs"]
    report = verify_chain([d["d1"], d["d2"], d["d3"]], chain["pub_a"])
    assert report.ok and report.exit_code == 0, report.lines()
    m3 = json.loads((d["d3"] / "manifest.json").read_text())
    assert (
        m3["totals"]["rows"] == 0
        and m3["watermarks"] == json.loads((d["d2"] / "manifest.json").read_text())["watermarks"]
    )
    assert [link.kind for link in report.links] == ["full export", "delta", "delta"]


def test_a_missing_delta_is_a_gap(chain):
    d = chain["dirs"]
    report = verify_chain([d["d1"], d["d3"]])
    assert report.exit_code == 1
    (problem,) = _problems(report)
    assert problem.startswith("gap: ") and str(d["d3"]) in problem and "a delta is missing" in problem


def test_a_delta_listed_twice_or_a_second_delta_after_the_same_export_is_a_repeat(chain):
    d = chain["dirs"]
    report = verify_chain([d["d1"], d["d2"], d["d2"], d["d3"]])
    assert report.exit_code == 1 and any(p.startswith("repeat: ") and "listed twice" in p for p in _problems(report))
    report = verify_chain([d["d1"], d["d2"], d["d2b"]])
    assert report.exit_code == 1
    assert any(p.startswith("repeat: ") and "applied twice" in p for p in _problems(report)), _problems(report)


def test_swapped_deltas_are_named(chain):
    d = chain["dirs"]
    report = verify_chain([d["d1"], d["d3"], d["d2"]])
    assert report.exit_code == 1
    assert any(p.startswith("swap: ") and str(d["d3"]) in p for p in _problems(report)), _problems(report)


def _edited_copy(src: Path, dst: Path, edit) -> None:
    shutil.copytree(src, dst)
    m = json.loads((dst / "manifest.json").read_text())
    edit(m)
    (dst / "manifest.json").write_bytes(canonical_json(seal(m)))  # resealed: the checksum matches again


def test_an_edited_link_is_named_and_the_signature_catches_it(chain, tmp_path):
    d = chain["dirs"]

    def lower_the_watermark(m):
        m["previous"]["watermarks"]["public.t"]["value"] = "50"
        m["tables"][0]["cursor"]["after"] = "50"

    _edited_copy(d["d2"], tmp_path / "d2e", lower_the_watermark)
    report = verify_chain([d["d1"], tmp_path / "d2e"])
    assert report.exit_code == 1
    assert any(p.startswith("edited link: ") for p in _problems(report)), _problems(report)
    # signed: the signature covers `previous`, so the edit is also an invalid signature
    report = verify_chain([d["d1"], tmp_path / "d2e"], chain["pub_a"])
    assert report.links[1].report.signature == "invalid"

    def point_elsewhere(m):
        m["previous"]["manifest_sha256"] = "0" * 64

    _edited_copy(d["d2"], tmp_path / "d2x", point_elsewhere)
    report = verify_chain([d["d1"], tmp_path / "d2x"])
    assert any(p.startswith("gap: ") for p in _problems(report)), _problems(report)


def test_a_delta_signed_with_another_key(chain):
    d = chain["dirs"]
    report = verify_chain([d["d1"], d["d2k"]])  # no key given: the signers differ
    assert report.exit_code == 1
    assert any(p.startswith("another key: ") and str(d["d2k"]) in p for p in _problems(report)), _problems(report)
    report = verify_chain([d["d1"], d["d2k"]], chain["pub_a"])  # the key given: its signature is invalid
    assert report.exit_code == 1 and report.links[1].report.signature == "invalid"
    assert verify_chain([d["d1"], d["d2"]], chain["pub_a"]).ok


def test_the_cli_verifies_a_chain(chain):
    d = chain["dirs"]
    env_dir = chain["base"] / "cli-data"

    def run(*args):
        env = {"ADU_DATA_DIR": str(env_dir), "PATH": "/usr/bin:/bin"}
        return subprocess.run([*ADU, "verify", *map(str, args)], capture_output=True, text=True, env=env, timeout=120)

    ok = run(d["d2"], "--chain", d["d1"], "--public-key", chain["pub_a"])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "OK: chain of 2 export(s)" in ok.stdout
    bad = run(d["d1"], d["d3"], d["d2"])
    assert bad.returncode == 1 and "FAIL  chain: swap: " in bad.stdout
    gap = run(d["d3"], "--chain", d["d1"], "--json")
    assert gap.returncode == 1
    doc = json.loads(gap.stdout)
    assert doc["links"][1]["problems"][0].startswith("gap: ")
