"""Run one piece of work in a forked child while this process does another.

``govstd generate`` uses it twice (generator/pipeline.py): the kind checks run
beside resolving, building and rendering, and the render stage's two halves of
about the same weight (models and migrations, which alembic renders table by
table; forms, schemas and the OpenAPI document) run side by side on a machine
with two or more cores. The child is forked, so it sees the tree and the
package model as they are without pickling them; only its result (or the
exception it raised) comes back through a pipe. Where ``fork`` does not exist,
there is a single core or the process runs other threads, the work is done in
this process right away, with the same outcome.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import select
import signal
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
    """``work()`` started now in a child process; ``result()`` waits for it.

    Use it as a context manager: leaving the block without asking for the result
    (this process failed first, or was interrupted) stops the child and reaps it.
    """

    def __init__(self, work: Callable[[], T], what: str = "work", *, fork: bool = True) -> None:
        self._work = work
        self._what = what
        self._pid = 0
        self._fd = -1
        self._outcome: tuple[bool, object] | None = None
        if fork and _can_fork():
            self._start()
        else:  # one process: the work is done now, its outcome kept for result()
            self._outcome = _outcome_of(work)

    def _start(self) -> None:
        read_fd, write_fd = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError:  # no memory or processes left: do the work here instead
            os.close(read_fd)
            os.close(write_fd)
            self._outcome = _outcome_of(self._work)
            return
        if pid == 0:  # the child never returns into the caller's code
            code = 1
            try:
                os.close(read_fd)
                signal.signal(signal.SIGTERM, _exit_on_term)
                code = self._send(write_fd)
            finally:
                os._exit(code)
        os.close(write_fd)
        self._pid, self._fd = pid, read_fd

    def _send(self, write_fd: int) -> int:
        """In the child: do the work and write its outcome to the pipe; the exit code.

        Two pickles: the failure's traceback as text (always readable), then the
        outcome itself (which may not unpickle in the parent, say an exception
        whose constructor takes other arguments than it keeps).
        """
        text = ""
        try:
            outcome: tuple[bool, object] = (True, self._work())
        except BaseException as exc:  # every failure goes to the parent, with where it was
            text = f"[{self._what} process]\n" + "".join(traceback.format_exception(exc))
            exc.add_note(text)
            outcome = (False, exc)
        try:
            payload = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:  # an exception that cannot be pickled: its traceback instead
            payload = pickle.dumps((False, RuntimeError(text or traceback.format_exc())))
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(pickle.dumps(text) + payload)
        return 0

    def __enter__(self) -> Beside[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _stop(self) -> None:
        """Stop a child whose result is not wanted, and reap it."""
        if self._pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGTERM)
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
            self._reap()

    def _reap(self) -> int:
        pid, self._pid = self._pid, 0
        return os.waitpid(pid, 0)[1]

    def ready(self) -> bool:
        """Whether ``result()`` would return without waiting (a child that has finished)."""
        if self._outcome is not None or not self._pid:
            return True
        poll = select.poll()
        poll.register(self._fd, select.POLLIN)
        return bool(poll.poll(0))

    def result(self) -> T:
        """The work's return value; its exception is raised here (each time it is asked)."""
        if self._outcome is None:
            self._outcome = self._receive()
        ok, value = self._outcome
        if not ok:
            assert isinstance(value, BaseException)
            raise value
        return value  # type: ignore[return-value]

    def _receive(self) -> tuple[bool, object]:
        fd, self._fd = self._fd, -1
        try:
            with os.fdopen(fd, "rb") as pipe:
                payload = pipe.read()
        except BaseException:  # interrupted while waiting: the child is stopped
            self._stop()
            self._outcome = (False, RuntimeError(f"the {self._what} process was stopped"))
            raise
        status = self._reap()
        stream = io.BytesIO(payload)  # two pickles, each read with a fresh memo
        try:
            text = str(pickle.load(stream))
        except Exception:
            return (
                False,
                RuntimeError(f"the {self._what} process ended without a result ({status})"),
            )
        try:
            outcome: tuple[bool, object] = pickle.load(stream)
        except Exception:  # the outcome does not unpickle here: its traceback does
            return (False, RuntimeError(text or f"the {self._what} process failed"))
        return outcome


def _outcome_of(work: Callable[[], object]) -> tuple[bool, object]:
    try:
        return (True, work())
    except Exception as exc:
        return (False, exc)


def _exit_on_term(signum: int, frame: object) -> None:
    """SIGTERM in a child: unwind (temporary folders are removed, ruff is stopped)."""
    raise SystemExit(128 + signum)
