"""The generator's own child processes: ``python -m generator.<module>`` of this checkout."""

from __future__ import annotations

import os
import sys
from pathlib import Path

CODE = str(Path(__file__).resolve().parent.parent)  # this checkout's generator


def python_module(module: str, *args: str) -> tuple[list[str], dict[str, str]]:
    """The command and environment that run ``module`` of this checkout in a new Python
    (the same interpreter; this checkout first on the path, whatever the working folder)."""
    path = os.pathsep.join(filter(None, [CODE, os.environ.get("PYTHONPATH")]))
    return [sys.executable, "-m", module, *args], {**os.environ, "PYTHONPATH": path}
