"""The ``adu`` console script's start-up helpers: pyarrow imported without numpy until
numpy is used (adu_core.late_numpy), and attrs' generated code kept between runs
(adu_core.codecache). Each runs in a fresh interpreter: both act on the first import."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path


def _python(code: str, *args: str, **env: str) -> dict:
    """Run ``code`` (with ``args``) in a new interpreter; it prints one JSON object, returned."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_pyarrow_runs_without_numpy_until_numpy_is_imported_then_with_it():
    out = _python(
        """
        import json, sys
        from adu_core import late_numpy
        assert late_numpy.install()
        import pyarrow as pa
        import pyarrow._parquet  # the writer's module
        import pyarrow.compute as pc  # its extension imports numpy too
        r = {"numpy_after_pyarrow": "numpy" in sys.modules, "deferred": late_numpy.numpy_deferred()}
        r["compute_alone"] = pc.sum(pa.array([1, 2, 3], pa.int64())).as_py()
        arr = pa.array([3, None, 5], pa.int64())
        r["arrow_alone"] = arr.to_pylist()
        try:
            arr.to_numpy(zero_copy_only=False)
        except ImportError as exc:
            r["to_numpy_before"] = "NumPy" in str(exc)
        import numpy as np   # attaches numpy to pyarrow
        r["deferred_after"] = late_numpy.numpy_deferred()
        r["from_numpy"] = pa.array(np.arange(4, dtype=np.int32)).to_pylist()
        r["to_numpy"] = pa.array([1.5, 2.5]).to_numpy().tolist()
        r["numpy_scalars"] = pa.array([np.int64(7), np.float64(1.5)]).to_pylist()
        r["masked"] = pa.array(np.array([1, 2, 3]), mask=np.array([False, True, False])).to_pylist()
        r["compute"] = pc.sum(pa.array(np.arange(5))).as_py()
        r["compute_takes_ndarray"] = pc.quantile(pa.array([1.0, 2.0, 3.0]), q=np.array([0.5])).to_pylist()
        import pandas as pd
        df = pa.table({"a": [1, 2], "s": ["x", None]}).to_pandas()
        r["pandas"] = df["a"].tolist()
        r["from_pandas"] = pa.Table.from_pandas(pd.DataFrame({"b": [1.0, None]})).column("b").to_pylist()
        print(json.dumps(r))
        """
    )
    assert out == {
        "numpy_after_pyarrow": False,
        "deferred": True,
        "compute_alone": 6,
        "arrow_alone": [3, None, 5],
        "to_numpy_before": True,
        "deferred_after": False,
        "from_numpy": [0, 1, 2, 3],
        "to_numpy": [1.5, 2.5],
        "numpy_scalars": [7.0, 1.5],
        "masked": [1, None, 3],
        "compute": 10,
        "compute_takes_ndarray": [2.0],
        "pandas": [1, 2],
        "from_pandas": [1.0, None],
    }


def test_numpy_imported_first_leaves_pyarrow_as_it_is():
    out = _python(
        """
        import json, sys
        import numpy
        from adu_core import late_numpy
        installed = late_numpy.install()
        import pyarrow as pa
        print(json.dumps({"installed": installed, "np": pa.lib.np is numpy,
                          "deferred": late_numpy.numpy_deferred()}))
        """
    )
    assert out == {"installed": False, "np": True, "deferred": False}


def test_a_numpy_import_by_pandas_attaches_numpy_to_pyarrow():
    out = _python(
        """
        import json
        from adu_core import late_numpy
        late_numpy.install()
        import pyarrow as pa
        t = pa.table({"a": [1, 2, 3]})
        df = t.to_pandas()   # pyarrow imports pandas, which imports numpy
        print(json.dumps({"sum": int(df["a"].sum()), "np": pa.lib.np is not None}))
        """
    )
    assert out == {"sum": 6, "np": True}


_CLASSES = """
    import json, sys
    from pathlib import Path
    from adu_core import codecache
    installed = codecache.install(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    import attrs

    @attrs.frozen
    class Point:
        x: int
        y: int = 0

    @attrs.define
    class Box:
        name: str
        size: int = 1

    p = Point(1, 2)
    assert p == Point(1, 2) and hash(p) == hash(Point(1, 2)) and hash(p) != hash(Point(2, 1))
    assert repr(Box("b")) == "Box(name='b', size=1)"
    state = codecache._state
    hits = sum(1 for k in state.get("used", {}) if k in state.get("known", {}))
    print(json.dumps({"installed": installed, "used": len(state.get("used", {})), "hits": hits}))
"""


def _classes(cache: Path, **env: str) -> dict:
    return _python(_CLASSES, str(cache), **env)


def test_attrs_code_is_compiled_once_then_read_from_the_cache(tmp_path):
    cache = tmp_path / "cache" / "attrs.bin"
    first = _classes(cache)
    assert first == {"installed": True, "used": 2, "hits": 0}
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.parent.stat().st_mode) == 0o700
    # a new process has another hash salt: the frozen class's __hash__ text still matches
    second = _classes(cache, PYTHONHASHSEED="12345")
    assert second == {"installed": True, "used": 2, "hits": 2}


def test_a_cache_others_can_write_or_a_broken_one_is_not_read(tmp_path):
    cache = tmp_path / "cache" / "attrs.bin"
    _classes(cache)
    cache.chmod(0o666)  # anyone could have put code in it
    assert _classes(cache)["hits"] == 0
    cache.write_bytes(b"not marshal data")
    cache.chmod(0o600)
    assert _classes(cache)["hits"] == 0  # and the classes still work (asserted inside)
    assert _classes(cache)["hits"] == 2  # the broken file was replaced


def test_nothing_is_written_into_a_directory_others_can_write(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    assert _classes(shared / "attrs.bin") == {"installed": True, "used": 2, "hits": 0}
    assert list(shared.iterdir()) == []


def test_the_cache_can_be_turned_off_and_a_read_only_home_is_no_error(tmp_path):
    cache = tmp_path / "cache" / "attrs.bin"
    assert _classes(cache, ADU_NO_CODE_CACHE="1") == {"installed": False, "used": 0, "hits": 0}
    assert not cache.exists()
    blocked = tmp_path / "home-is-a-file"  # no directory can be made under it (root too)
    blocked.write_text("")
    assert _classes(blocked / "adu" / "attrs.bin") == {"installed": True, "used": 2, "hits": 0}
    assert blocked.read_text() == "" and not list(tmp_path.glob(".*attrs*"))


def test_a_changed_class_replaces_its_old_entry(tmp_path):
    cache = tmp_path / "cache" / "attrs.bin"
    _classes(cache)
    import marshal

    before = marshal.loads(cache.read_bytes())
    script = (
        textwrap.dedent(_CLASSES)
        .replace("    size: int = 1\n", "    size: int = 1\n    extra: int = 0\n")
        .replace("size=1)", "size=1, extra=0)")
    )
    proc = subprocess.run([sys.executable, "-c", script, str(cache)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    after = marshal.loads(cache.read_bytes())
    assert len(before) == len(after) == 2
    assert [k for k in after if "Box" in k.partition("\0")[0]] != [k for k in before if "Box" in k.partition("\0")[0]]
