"""adu_core.plugin.distributions answers as importlib.metadata does, without importing it."""

import subprocess
import sys
import zipfile
from importlib import metadata

import pytest
from adu_core.plugin import distributions


def _theirs(group):
    return [(ep.name, ep.value, ep.dist.version if ep.dist else None) for ep in metadata.entry_points(group=group)]


def _mine(group):
    return [(ep.name, ep.value, ep.version) for ep in distributions.entry_points(group)]


def test_every_group_and_version_of_this_environment():
    groups = sorted(metadata.entry_points().groups)
    assert "adu" in groups and "console_scripts" in groups
    for group in groups:
        assert _mine(group) == _theirs(group), group  # the same entry points, in the same order
    names = {d.metadata["Name"] for d in metadata.distributions()}
    assert len(names) > 20
    assert {n: distributions.version(n) for n in names} == {n: metadata.version(n) for n in names}
    assert distributions.version("no-such-distribution-here") is None


def _dist(folder, dirname, entry_points=None, meta=None):
    info = folder / dirname
    info.mkdir(parents=True)
    if meta is not None:
        (info / ("PKG-INFO" if dirname.endswith(".egg-info") else "METADATA")).write_text(meta)
    if entry_points is not None:
        (info / "entry_points.txt").write_text(entry_points)


def test_folders_eggs_duplicates_and_entry_point_syntax(tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    _dist(
        first,
        "my_plugin-2.0.dist-info",
        "# a comment\n[other]\nx = nope\n\n[adu]\nmine = my_plugin.hooks:Plugin.instance [extra]\n",
        "Metadata-Version: 2.1\nName: my-plugin\nVersion: 2.0\n",
    )
    _dist(second, "My.Plugin-1.0.dist-info", "[adu]\nold = my_plugin_old\n", "Name: My.Plugin\nVersion: 1.0\n")
    _dist(second, "eggy.egg-info", "[adu]\negg = eggy.plugin\n", "Metadata-Version: 1.0\nName: eggy\nVersion: 3.1\n")
    _dist(second, "no_entry_points-0.5.dist-info", None, "Name: no-entry-points\nVersion: 0.5\n")
    (first / "my_plugin").mkdir()
    (first / "my_plugin" / "__init__.py").write_text("")
    (first / "my_plugin" / "hooks.py").write_text("class Plugin:\n    instance = 'the instance'\n")
    monkeypatch.setattr(sys, "path", [str(first), str(second), str(tmp_path / "missing")])
    mine = _mine("adu")
    # the first distribution of a (normalized) name wins; an egg-info's version from PKG-INFO
    assert mine == [("mine", "my_plugin.hooks:Plugin.instance [extra]", "2.0"), ("egg", "eggy.plugin", "3.1")]
    assert mine == _theirs("adu")
    assert [distributions.version(n) for n in ("my_plugin", "MY-PLUGIN", "eggy", "no-entry-points")] == [
        "2.0",
        "2.0",
        "3.1",
        "0.5",
    ]
    assert distributions.entry_points("adu")[0].load() == "the instance"


def test_a_zip_on_the_path_is_read_by_importlib_metadata(tmp_path, monkeypatch):
    archive = tmp_path / "plugins.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("zipped-1.2.dist-info/METADATA", "Metadata-Version: 2.1\nName: zipped\nVersion: 1.2\n")
        z.writestr("zipped-1.2.dist-info/entry_points.txt", "[adu]\nzipped = zipped_plugin\n")
    monkeypatch.setattr(sys, "path", [str(archive)])
    assert _mine("adu") == [("zipped", "zipped_plugin", "1.2")] == _theirs("adu")
    assert distributions.version("zipped") == "1.2"


@pytest.mark.parametrize(
    "code", ["import adu_core; adu_core.__version__", "from adu_core.plugin.manager import Plugins; Plugins()"]
)
def test_plugins_and_the_version_load_without_importlib_metadata(code):
    probe = f"import sys\n{code}\nprint('importlib.metadata' in sys.modules, 'email' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_an_import_hook_with_distributions_is_asked_through_importlib_metadata(tmp_path, monkeypatch):
    class Dist(metadata.Distribution):
        def read_text(self, filename):
            return {
                "METADATA": "Metadata-Version: 2.1\nName: hooked\nVersion: 4.2\n",
                "entry_points.txt": "[adu]\nhooked = hooked_plugin\n",
            }.get(filename)

        def locate_file(self, path):
            return tmp_path / path

    class Finder:
        @staticmethod
        def find_spec(*args, **kwargs):
            return None

        @staticmethod
        def find_distributions(context=None):
            name = getattr(context, "name", None)
            return iter([Dist()] if name in (None, "hooked") else [])

    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Finder()])
    assert ("hooked", "hooked_plugin", "4.2") in _mine("adu")
    assert _mine("adu") == _theirs("adu")
    assert distributions.version("hooked") == "4.2"


def test_a_distribution_installed_later_is_found(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [str(site)])
    assert _mine("adu") == []
    _dist(site, "late-1.0.dist-info", "[adu]\nlate = late_plugin\n", "Name: late\nVersion: 1.0\n")
    assert _mine("adu") == [("late", "late_plugin", "1.0")] == _theirs("adu")
