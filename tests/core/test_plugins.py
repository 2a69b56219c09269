import subprocess
import sys
import textwrap

import pytest
from adu_core.errors import UsageError
from adu_core.plugin import hookimpl
from adu_core.plugin.manager import Plugins


class _Observer:
    def __init__(self):
        self.events = []

    @hookimpl
    def adu_job_started(self, job_id, spec):
        self.events.append(("started", job_id, spec.source))

    @hookimpl
    def adu_job_finished(self, job_id, result):
        self.events.append(("finished", job_id, result.status.value))


class _Broken:
    @hookimpl
    def adu_job_started(self, job_id, spec):
        raise RuntimeError("observer bug")


def test_builtins_provide_sources_sinks_validators(adu_plugins):
    reg = adu_plugins.registry
    assert {"duckdb", "postgresql"} <= set(reg.sources)
    assert "parquet" in reg.sinks
    assert "pandera" in reg.validators
    assert {"thread", "process"} <= set(reg.executors)  # built in, registered like a plugin's
    assert "executor:thread" in {r.name: r for r in adu_plugins.describe()}["executors"].provides
    assert adu_plugins.source_class("duckdb:///x.duckdb").name == "duckdb"
    with pytest.raises(UsageError, match="unknown source scheme 'mysql'"):
        adu_plugins.source_class("mysql://u:pw@h/db")


def test_register_plugin_for_one_test_only(register_plugin, adu_plugins):
    obs = register_plugin(_Observer(), name="audit")
    register_plugin(_Broken(), name="broken")
    from adu_core.models import JobSpec

    adu_plugins.job_started(job_id="j1", spec=JobSpec(source="postgresql://u:pw@h/db", target="/t"))
    assert obs.events == [("started", "j1", "postgresql://u@h/db")]  # redacted, and the broken one did not stop it
    assert "audit" in [r.name for r in adu_plugins.describe()]


def test_the_previous_test_left_nothing_behind(adu_plugins):
    assert "audit" not in [r.name for r in adu_plugins.describe()]


def test_duplicate_component_names_are_refused(register_plugin, adu_plugins):
    from adu_duckdb.source import DuckDBSource

    class Copy:
        @hookimpl
        def adu_register_sources(self, register):
            register(DuckDBSource)

    register_plugin(Copy(), name="copycat")
    with pytest.raises(UsageError, match="registered by both 'duckdb' and 'copycat'"):
        _ = adu_plugins.registry


def test_block_env_and_broken_entrypoint(tmp_path, monkeypatch):
    monkeypatch.setenv("ADU_BLOCK_PLUGINS", "vertica, pandera")
    pm = Plugins()
    names = [r.name for r in pm.describe()]
    assert "vertica" not in names and "pandera" not in names and "duckdb" in names
    # a third-party plugin whose import fails is reported in one line, the host goes on
    dist = tmp_path / "site"
    (dist / "badplugin").mkdir(parents=True)
    (dist / "badplugin" / "__init__.py").write_text("raise ImportError('needs libfoo')\n")
    info = dist / "badplugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: badplugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[adu]\nbad = badplugin\n")
    code = textwrap.dedent("""
        from adu_core.plugin.manager import Plugins
        pm = Plugins()
        print("ERR", pm.errors)
        print("OK", sorted(pm.registry.sources))
    """)
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(dist), "PATH": "/usr/bin"},
        check=True,
    ).stdout
    assert "plugin 'bad' failed to load: ImportError: needs libfoo" in out
    assert "duckdb" in out.split("OK", 1)[1]


def test_core_never_imports_a_frontend_or_plugin():
    code = textwrap.dedent("""
        import importlib, pkgutil, sys
        import adu_core
        for m in pkgutil.walk_packages(adu_core.__path__, "adu_core."):
            if m.name in ("adu_core.testing",) or ".migrations." in m.name or m.name.endswith(".env"):
                continue
            importlib.import_module(m.name)
        bad = sorted(n for n in sys.modules if n.split(".")[0] in (
            "adu_web", "adu_cli", "adu_postgres", "adu_vertica", "adu_parquet", "adu_pandera", "adu_duckdb",
            "flask", "click"))
        print(bad)
    """)
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"ADU_BLOCK_PLUGINS": "duckdb,parquet,postgres,pandera,vertica", "PATH": "/usr/bin"},
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
