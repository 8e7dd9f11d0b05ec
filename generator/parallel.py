"""Run one piece of work in a forked child while this process does another.

The generator's render stage has two halves of about the same weight (the
migration, which alembic renders table by table, and the form modules); on a
machine with two or more cores they run side by side. The child is forked, so
it sees the package model as it is without pickling it; only its result (or
the exception it raised) comes back through a pipe. Where ``fork`` does not
exist, there is a single core or the process runs other threads, the work runs
in this process when its result is asked for, with the same outcome.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


def _can_fork() -> bool:
    """Fork only a single-threaded process (a thread holding a lock would deadlock the child)."""
    return hasattr(os, "fork") and (os.cpu_count() or 1) > 1 and threading.active_count() == 1


class Beside(Generic[T]):
    """``work()`` started now in a child process; ``result()`` waits for it."""

    def __init__(self, work: Callable[[], T]) -> None:
        self._work = work
        self._pid = 0
        self._fd = -1
        if _can_fork():
            self._start()

    def _start(self) -> None:
        read_fd, write_fd = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: do the work, send the outcome, leave without cleanup
            os.close(read_fd)
            code = 0
            try:
                outcome: tuple[bool, object] = (True, self._work())
            except BaseException as exc:  # every failure goes to the parent
                outcome = (False, exc)
            try:
                payload = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # an exception that cannot be pickled: send its traceback
                error = outcome[1]
                text = ""
                if isinstance(error, BaseException):
                    text = "".join(traceback.format_exception(error))
                payload = pickle.dumps((False, RuntimeError(text or traceback.format_exc())))
            try:
                with os.fdopen(write_fd, "wb") as pipe:
                    pipe.write(payload)
            except BaseException:
                code = 1
            os._exit(code)
        os.close(write_fd)
        self._pid, self._fd = pid, read_fd

    def __enter__(self) -> Beside[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        """Reap a child whose result was not asked for (this process failed first)."""
        if self._pid:
            os.close(self._fd)  # the child's write fails and it exits
            os.waitpid(self._pid, 0)
            self._pid = 0

    def result(self) -> T:
        """The work's return value; its exception is raised here."""
        if not self._pid:
            return self._work()
        with os.fdopen(self._fd, "rb") as pipe:
            payload = pipe.read()
        _, status = os.waitpid(self._pid, 0)
        self._pid = 0
        if not payload:
            raise RuntimeError(f"render process ended without a result (status {status})")
        ok, value = pickle.loads(payload)
        if not ok:
            assert isinstance(value, BaseException)
            raise value
        return value  # type: ignore[no-any-return]
