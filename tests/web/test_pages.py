"""The read-only pages: dashboard, job details, log viewer, export browser."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from adu_core.models import JobSpec
from webutil import JOB_PASSWORD, Client, World


@pytest.fixture
def viewer(clients: dict[str | None, Client]) -> Client:
    return clients["viewer"]


def test_dashboard_lists_jobs_newest_first_with_progress(viewer: Client, world: World) -> None:
    page = viewer.get("/").data.decode()
    ids = re.findall(r'href="/job/([0-9a-f]{32})"', page)
    assert ids.index(world.exported) < ids.index(world.partial) < ids.index(world.running) < ids.index(world.queued)
    assert 'class="status s-partial"' in page and 'class="status s-succeeded"' in page
    assert "<progress" in page
    # the live region polls while a job is queued or running
    assert 'data-live="/partials/jobs"' in page and 'data-active="1"' in page
    assert JOB_PASSWORD not in page


def test_dashboard_filters_by_status_and_pages(viewer: Client, world: World) -> None:
    page = viewer.get("/?status=partial").data.decode()
    assert world.partial in page and world.exported not in page
    assert viewer.get("/?status=bogus").status_code == 400
    assert viewer.get("/?page=abc").status_code == 400
    one = viewer.get("/?size=1&page=2").data.decode()
    assert "Page 2 of" in one
    assert len(set(re.findall(r'href="/job/([0-9a-f]{32})"', one))) == 1
    # past the end shows the last page rather than nothing
    assert "Page" in viewer.get("/?size=1&page=9999").data.decode()


def test_jobs_partial_is_the_live_region(viewer: Client, world: World) -> None:
    r = viewer.get("/partials/jobs?status=succeeded")
    body = r.data.decode()
    assert r.status_code == 200 and body.lstrip().startswith('<div id="jobs"')
    assert 'data-active="0"' in body and world.exported in body


def test_job_page_shows_summary_tables_and_folded_errors(
    viewer: Client, clients: dict[str | None, Client], world: World
) -> None:
    # viewers never see tracebacks (server paths); operators get them folded
    assert "Traceback" not in viewer.get(f"/job/{world.partial}").data.decode()
    page = clients["operator"].get(f"/job/{world.partial}").data.decode()
    assert "public.good" in page and "public.bad" in page
    assert "permission denied for table &#34;bad&#34;" in page or 'permission denied for table "bad"' in page
    assert "SQLSTATE 42501" in page
    assert "<details><summary>Traceback</summary><pre>Traceback (most recent call last)" in page
    assert "1 succeeded" in page and "1 failed" in page
    assert f'href="/job/{world.partial}/log"' in page
    assert "postgresql://exporter@db.example:5432/prod" in page
    assert 'data-active="0"' in page


def test_job_page_of_running_job_is_live(viewer: Client, world: World) -> None:
    page = viewer.get(f"/job/{world.running}").data.decode()
    assert f'data-live="/job/{world.running}/partial"' in page and 'data-active="1"' in page
    part = viewer.get(f"/job/{world.running}/partial").data.decode()
    assert part.lstrip().startswith('<div id="job-live"')


def test_configuration_is_shown_without_secrets(clients: dict[str | None, Client], world: World) -> None:
    spec = JobSpec(source="postgresql://bob:hunter2-pw@db/x", target=str(world.root / "exports" / "s"))
    job_id = world.store.create_job(spec, created_by="admin", password="hunter2-pw")
    page = clients["viewer"].get(f"/job/{job_id}").data.decode()
    assert "hunter2-pw" not in page
    assert "postgresql://bob@db/x" in page
    api = clients["viewer"].get(f"/api/jobs/{job_id}").data.decode()
    assert "hunter2-pw" not in api
    world.store.delete_job(job_id)


def test_unknown_or_malformed_job_ids_are_404(viewer: Client, world: World) -> None:
    for url in (
        "/job/" + "0" * 32,
        "/job/" + world.partial[:8],
        "/job/" + world.partial.upper(),
        "/job/..%2f..%2fetc",
        f"/job/{world.partial}x/log",
        "/api/jobs/nothex",
    ):
        r = viewer.get(url)
        assert r.status_code == 404, url
        assert b"Traceback" not in r.data


def _numbers(page: str) -> set[int]:
    return {int(n) for n in re.findall(r"<td>entry number (\d+)", page)}


def test_log_viewer_filters_pages_and_downloads(
    viewer: Client, clients: dict[str | None, Client], world: World
) -> None:
    url = f"/job/{world.partial}/log"
    last = viewer.get(url).data.decode()  # opens on the last page: newest last
    assert "Page 3 of 3" in last and _numbers(last) == set(range(400, 450))
    assert "ValueError: last one" not in last  # viewers see no tracebacks...
    assert "ValueError: last one" in clients["operator"].get(url).data.decode()  # ...operators do, folded
    assert _numbers(viewer.get(url + "?page=1").data.decode()) == set(range(200))
    errors = viewer.get(url + "?level=ERROR&size=2000").data.decode()
    assert _numbers(errors) == {i for i in range(450) if i % 4 == 3}
    assert "112 entries" in errors
    warnings = _numbers(viewer.get(url + "?level=WARNING&size=2000").data.decode())
    assert warnings == {i for i in range(450) if i % 4 >= 2}
    bad = viewer.get(url + "?table=public.bad&size=2000").data.decode()
    assert _numbers(bad) == {i for i in range(450) if i % 3 == 1}
    both = viewer.get(url + "?table=public.bad&level=ERROR&size=2000").data.decode()
    assert _numbers(both) == {i for i in range(450) if i % 3 == 1 and i % 4 == 3}
    assert viewer.get(url + "?level=LOUD").status_code == 400
    dl = viewer.get(f"/job/{world.partial}/log/download")
    assert dl.status_code == 200
    assert dl.headers["Content-Disposition"] == f'attachment; filename="adu-job-{world.partial}.log.jsonl"'
    lines = dl.data.decode().splitlines()
    assert len(lines) == 450 and json.loads(lines[0])["message"] == "entry number 0"
    assert "exc" not in json.loads(lines[-1])  # a viewer's download has no tracebacks
    full = clients["operator"].get(f"/job/{world.partial}/log/download").data.decode().splitlines()
    assert "last one" in json.loads(full[-1])["exc"]


def test_log_of_a_job_without_log(viewer: Client, world: World) -> None:
    assert "No log yet" in viewer.get(f"/job/{world.queued}/log").data.decode()
    assert viewer.get(f"/job/{world.queued}/log/download").status_code == 404


def test_real_job_log_is_viewable(viewer: Client, world: World) -> None:
    page = viewer.get(f"/job/{world.exported}/log?size=2000").data.decode()
    assert "entries, oldest first" in page
    assert "shop.orders" in page  # the table filter offers the job's tables


def test_export_browser_shows_manifest_files_and_preview(viewer: Client, world: World) -> None:
    page = viewer.get(f"/job/{world.exported}/export").data.decode()
    assert "checksum matches" in page
    assert "shop.orders" in page
    assert re.search(r'<code class="hash">[0-9a-f]{64}</code>', page)
    manifest = json.loads((world.export_root / "demo" / "manifest.json").read_text())
    index = [f"{t['schema']}.{t['name']}" for t in manifest["tables"]].index("shop.products")
    preview = viewer.get(f"/job/{world.exported}/export/table/{index}?rows=5").data.decode()
    assert '<th scope="col">' in preview
    assert preview.count("<tr>") == 1 + 5  # header + rows
    assert viewer.get(f"/job/{world.exported}/export/table/999").status_code == 404


def test_export_verify_button(clients: dict[str | None, Client], world: World) -> None:
    page = clients["viewer"].post(f"/job/{world.exported}/export/verify").data.decode()
    assert "Verification: OK" in page


def test_export_page_without_manifest(viewer: Client, world: World) -> None:
    assert "holds no manifest yet" in viewer.get(f"/job/{world.queued}/export").data.decode()


def _fake_export(world: World, name: str, path: str) -> str:
    target = world.export_root / name
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    manifest = {
        "format": "adu-manifest",
        "format_version": 1,
        "tables": [
            {
                "schema": "s",
                "name": "t",
                "rows": 1,
                "bytes": 1,
                "status": "succeeded",
                "files": [{"path": path, "rows": 1, "bytes": 1, "sha256": "0" * 64}],
            }
        ],
    }
    (target / "manifest.json").write_text(json.dumps(manifest))
    return world.store.create_job(JobSpec(source="duckdb:///x.duckdb", target=str(target)), created_by="t")


@pytest.mark.parametrize("path", ["../outside.parquet", "/etc/passwd", "a/../../outside.parquet", "link.parquet"])
def test_preview_refuses_files_outside_the_export(viewer: Client, world: World, path: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    outside = world.export_root / "outside.parquet"
    pq.write_table(pa.table({"secret": ["do not show"]}), outside)
    job_id = _fake_export(world, "evil-" + str(abs(hash(path))), path)
    link = world.export_root / ("evil-" + str(abs(hash(path)))) / "link.parquet"
    link.symlink_to(outside)
    r = viewer.get(f"/job/{job_id}/export/table/0")
    assert r.status_code == 400
    assert b"do not show" not in r.data
    world.store.delete_job(job_id)


def test_log_pages_past_the_end_and_exact_multiples(viewer: Client, world: World) -> None:
    url = f"/job/{world.partial}/log"
    r = viewer.get(url + "?page=99&level=ERROR")
    assert r.status_code == 302 and "page=1" in r.headers["Location"] and "level=ERROR" in r.headers["Location"]
    exact = viewer.get(url + "?size=150").data.decode()  # 450 entries: 3 full pages
    assert "Page 3 of 3" in exact and _numbers(exact) == set(range(300, 450))
    middle = viewer.get(url + "?size=150&page=2").data.decode()
    assert _numbers(middle) == set(range(150, 300))


def test_job_page_names_where_partitions_ran(viewer: Client, world: World) -> None:
    # the thread executor records host:pid; a cluster executor its workers' addresses
    import os
    import socket

    page = viewer.get(f"/job/{world.exported}").data.decode()
    assert '<th scope="col">Ran on</th>' in page
    assert f"<code>{socket.gethostname()}:{os.getpid()}</code>" in page
