"""The generator's own child processes: ``python -m generator.<module>`` of this checkout."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

CODE = str(Path(__file__).resolve().parent.parent)  # this checkout's generator


def python_module(module: str, *args: str) -> tuple[list[str], dict[str, str]]:
    """The command and environment that run ``module`` of this checkout in a new Python
    (the same interpreter; this checkout first on the path, whatever the working folder:
    ``-P``, else ``-m`` would put the working folder first, and a ``generator`` package
    there — another checkout's, say — would run instead)."""
    path = os.pathsep.join(filter(None, [CODE, os.environ.get("PYTHONPATH")]))
    return [sys.executable, "-P", "-m", module, *args], {**os.environ, "PYTHONPATH": path}


class Closing:
    """A ``with`` block's end calls :meth:`close`."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class Child(Closing):
    """``python -m module FILE``, begun at once, FILE a temporary file holding ``given``;
    :meth:`output` waits for what it writes to its standard output. Closing (or leaving
    the ``with`` block) stops it if it still runs and removes the file."""

    def __init__(self, module: str, given: bytes) -> None:
        fd, name = tempfile.mkstemp(prefix=f"govstd-{module.rsplit('.', 1)[-1]}-")
        self._file: Path | None = Path(name)
        with os.fdopen(fd, "wb") as f:
            f.write(given)
        command, env = python_module(module, name)
        self._process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
        )

    def output(self) -> bytes | None:
        """Its standard output once it ends; None if it failed."""
        out, _ = self._process.communicate()
        self.close()
        return out if self._process.returncode == 0 else None

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.communicate()
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.unlink()
            self._file = None
