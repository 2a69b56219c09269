"""pyarrow without numpy until something uses numpy.

``import pyarrow`` imports numpy (pyarrow.lib does, to set up its conversions): ~0.12 s of
CPU with numpy 2.x on this machine, a quarter of a 1-row ``adu export`` (0.49 s) whose data
never touches numpy — the Parquet writer, the decoders and the checks of a small table are
all Arrow. pyarrow supports running without numpy (since 16.0: ``np`` is None in its
modules and the C++ side asks ``arrow::py::has_numpy()``), but decides once, at import.

:func:`install` (the ``adu`` console script and the test suite call it first thing) makes
that decision late: pyarrow is imported with numpy hidden, and the first ``import numpy``
anywhere in the process — a plugin's, pandas', Dask's — completes what pyarrow skipped:
its modules' ``np`` are set and ``arrow::py::arrow_init_numpy()`` (the C++ function
pyarrow.lib's import calls; exported by libarrow_python) loads numpy's C API for the C++
conversions. After that the process is as if pyarrow had imported numpy itself.

Until then, pyarrow calls that return numpy objects (``Array.to_numpy``) raise pyarrow's
own ``ImportError`` ("NumPy is not present"): code that wants numpy objects imports
numpy, which is what attaches it. Nothing here runs when pyarrow or numpy is already
imported, when libarrow_python lacks the function (another pyarrow build), or outside
Linux-style shared libraries: pyarrow then imports numpy as usual.
"""

from __future__ import annotations

import importlib.machinery
import os
import re
import sys
from collections.abc import Callable
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

#: ``arrow::py::arrow_init_numpy()``, mangled (Itanium C++ ABI): 0 on success
_INIT_SYMBOL = "_ZN5arrow2py16arrow_init_numpyEv"
#: pyarrow's modules that hold numpy as their global ``np``
_HOLDERS = ("pyarrow.lib", "pyarrow._compute")

_state: dict[str, Any] = {}


def install() -> bool:
    """Import pyarrow without numpy from now on (see the module's text); False when it is
    too late (pyarrow or numpy already imported) or already done."""
    if "pyarrow" in sys.modules or "numpy" in sys.modules or _state:
        return False
    _state["installed"] = True
    sys.meta_path.insert(0, _FirstImport("pyarrow", _pyarrow_without_numpy))
    return True


def numpy_deferred() -> bool:
    """Whether pyarrow was imported without numpy and numpy has not been attached yet."""
    return "init" in _state and "numpy" not in sys.modules


class _Loader:
    """``loader`` with ``around`` run about its ``exec_module`` (``around`` returns the
    function to call after it, given the module)."""

    def __init__(self, loader: Any, around: Callable[[], Callable[[ModuleType], None]]) -> None:
        self.loader = loader
        self.around = around

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self.loader.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        after = self.around()
        try:
            self.loader.exec_module(module)
        except BaseException:
            after(module)
            raise
        after(module)


class _FirstImport:
    """A ``sys.meta_path`` finder (not derived from importlib.abc: its import is ~18 ms)
    that finds the top-level module ``name`` once (then leaves ``sys.meta_path``) and hands
    its spec to ``adapt``."""

    def __init__(self, name: str, adapt: Callable[[ModuleSpec], ModuleSpec]) -> None:
        self.name = name
        self.adapt = adapt

    def find_spec(self, fullname: str, path: Any, target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname != self.name:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or spec.origin is None:
            return spec
        return self.adapt(spec)


def _init_function(package_dir: str) -> Any:
    """``arrow_init_numpy`` of the libarrow_python next to pyarrow (the file its
    extensions load by soname), or None."""
    import ctypes

    try:
        names = [n for n in os.listdir(package_dir) if re.fullmatch(r"libarrow_python\.so\.\d+", n)]
        if len(names) != 1:
            return None
        # PyDLL: the call keeps the GIL (it imports numpy's C API); the same file that
        # pyarrow.lib loads, so one copy of the library and of its state
        function = getattr(ctypes.PyDLL(os.path.join(package_dir, names[0])), _INIT_SYMBOL)
    except (OSError, AttributeError):
        return None
    function.restype = ctypes.c_int
    function.argtypes = []
    return function


def _pyarrow_without_numpy(spec: ModuleSpec) -> ModuleSpec:
    if "numpy" in sys.modules or spec.origin is None:
        return spec
    init = _init_function(os.path.dirname(spec.origin))
    if init is None:
        return spec
    _state["init"] = init

    def hide() -> Callable[[ModuleType], None]:
        sys.modules["numpy"] = None  # type: ignore[assignment]  # "import numpy" raises ImportError

        def show(module: ModuleType) -> None:
            _unhide()
            sys.meta_path.insert(0, _FirstImport("numpy", _numpy_attaching))
            sys.meta_path.insert(0, _FirstImport("pyarrow._compute", _compute_without_numpy))

        return show

    spec.loader = _Loader(spec.loader, hide)  # type: ignore[assignment]  # a loader by protocol
    return spec


def _unhide() -> None:
    if "numpy" in sys.modules and sys.modules["numpy"] is None:
        del sys.modules["numpy"]


def _compute_without_numpy(spec: ModuleSpec) -> ModuleSpec:
    """``pyarrow.compute``'s extension imports numpy too (``import pyarrow.compute``, the
    DuckDB sink's, imported numpy and started its BLAS threads in every ``adu load``):
    hidden there as well while numpy is not attached; :func:`attach` completes it."""
    if "numpy" in sys.modules:
        return spec

    def hide() -> Callable[[ModuleType], None]:
        if "numpy" not in sys.modules:
            sys.modules["numpy"] = None  # type: ignore[assignment]  # "import numpy" raises ImportError
        return lambda module: _unhide()

    spec.loader = _Loader(spec.loader, hide)  # type: ignore[assignment]  # a loader by protocol
    return spec


def _numpy_attaching(spec: ModuleSpec) -> ModuleSpec:
    def nothing() -> Callable[[ModuleType], None]:
        return attach

    spec.loader = _Loader(spec.loader, nothing)  # type: ignore[assignment]  # a loader by protocol
    return spec


def attach(numpy: ModuleType) -> None:
    """Give pyarrow the numpy that was just imported (its modules' ``np``, the C API)."""
    if getattr(numpy, "ndarray", None) is None:  # numpy's import failed: nothing to attach
        return
    for name in _HOLDERS:
        module = sys.modules.get(name)
        if module is not None and getattr(module, "np", None) is None:
            module.np = numpy  # type: ignore[attr-defined]
    compute = sys.modules.get("pyarrow._compute")
    accepted = getattr(compute, "SUPPORTED_INPUT_ARR_TYPES", None)  # what pc.quantile(q=...) takes
    if isinstance(accepted, tuple) and numpy.ndarray not in accepted:
        compute.SUPPORTED_INPUT_ARR_TYPES = (*accepted, numpy.ndarray)  # type: ignore[union-attr]
    if _state["init"]() != 0:  # a Python error is set: ctypes.PyDLL raises it
        raise ImportError("pyarrow could not load numpy's C API")
    _state.pop("init")
