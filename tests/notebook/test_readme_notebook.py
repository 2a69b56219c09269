"""The README's "Notebooks" section, run as written in a real Jupyter kernel against the
test PostgreSQL (only the URL and the target directory are replaced, as the README says),
and ``progress=True`` on a real terminal."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
README_URL = "postgresql://exporter@db.internal/prod"
README_TARGET = "/exports/today"


def notebook_blocks() -> list[str]:
    """The ```python blocks of the README's "## Notebooks" section."""
    section = README.read_text().split("\n## Notebooks\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.fixture(scope="module")
def sales_url(pg: Any) -> Iterator[str]:
    db = pg.create_database("nb")
    db.execute(
        "CREATE SCHEMA sales; CREATE SCHEMA hr;"
        "CREATE TABLE sales.orders (id bigint PRIMARY KEY, amount numeric(10,2), placed date);"
        "INSERT INTO sales.orders SELECT g, g * 1.25, date '2026-01-01' + g % 90 FROM generate_series(1, 5000) g;"
        "CREATE TABLE sales.customers (id int PRIMARY KEY, name text NOT NULL);"
        "INSERT INTO sales.customers SELECT g, 'customer ' || g FROM generate_series(1, 300) g;"
        "CREATE TABLE hr.staff (id int PRIMARY KEY, salary numeric);"
        "INSERT INTO hr.staff VALUES (1, 100000);"
        "ANALYZE;"
    )
    try:
        yield db.dsn  # with its password: the README's promise is that it is never stored
    finally:
        db.drop()


def _env(data_dir: Path, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADU_", "PG"))}
    env.update(ADU_DATA_DIR=str(data_dir), ADU_PARALLEL="2", IPYTHONDIR=str(tmp / "ipython"))
    return env


def _substitute(block: str, url: str, target: Path) -> str:
    assert README_URL in block or README_TARGET in block or "adu.jobs" in block
    return block.replace(README_URL, url).replace(README_TARGET, str(target))


def test_the_readme_notebook_runs_in_jupyter(sales_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    from jupyter_client.manager import start_new_kernel

    blocks = notebook_blocks()
    assert len(blocks) == 3
    data_dir, target = tmp_path / "adu-data", tmp_path / "exports" / "today"
    km, kc = start_new_kernel(kernel_name="python3", env=_env(data_dir, tmp_path), startup_timeout=120)
    outputs: list[list[dict[str, Any]]] = []
    try:
        for block in blocks:
            msgs: list[dict[str, Any]] = []
            reply = kc.execute_interactive(_substitute(block, sales_url, target), output_hook=msgs.append, timeout=300)
            errors = [m["content"] for m in msgs if m["msg_type"] == "error"]
            assert reply["content"]["status"] == "ok", errors or reply["content"]
            outputs.append(msgs)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)

    def stdout(msgs: list[dict[str, Any]]) -> str:
        return "".join(m["content"]["text"] for m in msgs if m["msg_type"] == "stream")

    assert stdout(outputs[0]).strip() == "['sales.customers', 'sales.orders']"
    assert stdout(outputs[1]).strip() == "succeeded 5300 ['sales.orders', 'sales.customers']"
    shown = [m for m in outputs[1] if m["msg_type"] == "display_data"]
    updated = [m for m in outputs[1] if m["msg_type"] == "update_display_data"]
    assert len(shown) == 1 and "<progress" in shown[0]["content"]["data"]["text/html"]
    display_id = shown[0]["content"]["transient"]["display_id"]
    assert updated and all(m["content"]["transient"]["display_id"] == display_id for m in updated)
    assert "succeeded: 2 table(s), 5,300 rows" in updated[-1]["content"]["data"]["text/plain"]
    lines = stdout(outputs[2]).strip().splitlines()
    assert lines[-1] == "True" and "'succeeded', 5300)" in lines[0]
    assert (target / "manifest.json").is_file()

    # recorded in the same store as CLI and web jobs, and the password is nowhere in it
    from adu_core import config
    from adu_core.services import Context, jobs

    password = re.search(r"://[^:]+:([^@]+)@", sales_url).group(1)  # type: ignore[union-attr]
    with Context(config.load({"ADU_DATA_DIR": str(data_dir)})) as ctx:
        (job,) = jobs.list_jobs(ctx)
        assert job.status.value == "succeeded" and job.rows == 5300 and not job.has_secret
        assert password not in job.source and job.created_by
        assert [e.data for e in jobs.events(ctx, job.id) if e.data and e.data.get("action")] == [
            {"action": "submit", "by": job.created_by, "via": "notebook"}
        ]
    assert password.encode() not in (data_dir / "adu.db").read_bytes()


def test_progress_on_a_terminal(sales_url: str, tmp_path: Path) -> None:
    # the export block, in a script on a terminal (the first block's import before it)
    code = "import adu_core as adu\n" + _substitute(notebook_blocks()[1], sales_url, tmp_path / "tty-export")
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=slave, stdout=slave, stderr=slave, env=_env(tmp_path / "data", tmp_path)
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal is closed when the process ends
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(timeout=120) == 0, b"".join(chunks).decode(errors="replace")
    out = b"".join(chunks).decode()
    # one line rewritten in place (carriage returns), ended by a newline, then the print
    assert "\rtables " in out and "2/2" in out and "5,300 rows" in out
    assert out.rstrip().endswith("succeeded 5300 ['sales.orders', 'sales.customers']")
