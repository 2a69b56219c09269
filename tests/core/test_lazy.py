import subprocess
import sys


def test_starting_adu_imports_neither_polars_nor_duckdb():
    """Every process of a job forks from the CLI: what it imports sits in all of them."""
    code = (
        "import sys, adu_cli.main\n"
        "from adu_cli.commands import export\n"
        "from adu_core.plugin.manager import get_plugins\n"
        "get_plugins().registry\n"
        "print(sorted(m for m in ('polars', 'duckdb', 'flask', 'pandera') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_lazy_module_imports_on_first_use():
    from adu_core.lazy import lazy_module

    code = (
        "import sys\nfrom adu_core.lazy import lazy_module\n"
        "m = lazy_module('colorsys')\nprint('colorsys' in sys.modules)\n"
        "print(m.rgb_to_hsv(1, 0, 0))\nprint('colorsys' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "False" and out[-1] == "True"
    assert "not loaded yet" in repr(lazy_module("json_not_loaded_name"))
