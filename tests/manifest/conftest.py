"""Makes the shared export helpers (tests/parquet/adu_export_kit.py) importable."""

from __future__ import annotations

import sys
from pathlib import Path

_KIT = str(Path(__file__).parent.parent / "parquet")
if _KIT not in sys.path:
    sys.path.insert(0, _KIT)
