"""The render stage's second process: results, failures and clean-up come back whole."""

from __future__ import annotations

import os
import signal
import time

import pytest

from generator import parallel
from generator.parallel import Beside
from generator.render import GenerateError


def _child_pid() -> int:
    return os.getpid()


@pytest.fixture
def forking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fork even though the test process runs other threads (left by earlier tests)."""
    if not (hasattr(os, "fork") and (os.cpu_count() or 1) > 1):
        pytest.skip("no fork or a single core here: the work runs in this process")
    monkeypatch.setattr(parallel.threading, "active_count", lambda: 1)


@pytest.mark.filterwarnings("ignore:.*fork:DeprecationWarning")
def test_work_runs_in_another_process_and_its_result_comes_back(forking: None) -> None:
    with Beside(_child_pid) as side:
        assert side.result() != os.getpid()
    with Beside(lambda: ["模型.py", "x" * 1_000_000]) as side:  # more than a pipe buffer
        assert side.result() == ["模型.py", "x" * 1_000_000]


@pytest.mark.filterwarnings("ignore:.*fork:DeprecationWarning")
def test_a_refusal_in_the_child_reaches_the_caller_with_its_lines(forking: None) -> None:
    lines = ["迁移会丢失数据 / the migration would lose data:", "  drop column x (a.yaml)"]

    def refuse() -> None:
        raise GenerateError(lines)

    with Beside(refuse) as side, pytest.raises(GenerateError) as caught:
        side.result()
    assert caught.value.lines == lines
    assert str(caught.value) == "\n".join(lines)


@pytest.mark.filterwarnings("ignore:.*fork:DeprecationWarning")
def test_an_exception_that_cannot_be_pickled_is_still_reported(forking: None) -> None:
    class Local(Exception):  # defined in a function: pickle cannot find it by name
        pass

    def fail() -> None:
        raise Local("boom")

    with Beside(fail) as side, pytest.raises(Exception, match="boom"):
        side.result()


def _sleep() -> None:
    time.sleep(60)


@pytest.mark.filterwarnings("ignore:.*fork:DeprecationWarning")
def test_the_child_is_stopped_and_reaped_when_the_caller_fails_first(forking: None) -> None:
    started = time.monotonic()
    with pytest.raises(ValueError), Beside(_sleep) as side:
        pid = side._pid
        raise ValueError("the parent's own half failed")
    assert time.monotonic() - started < 10  # stopped, not waited for
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped: no zombie left


@pytest.mark.filterwarnings("ignore:.*fork:DeprecationWarning")
def test_an_interrupt_while_waiting_stays_an_interrupt(forking: None) -> None:
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        with Beside(_sleep) as side:
            pid = side._pid
            signal.setitimer(signal.ITIMER_REAL, 0.3)
            with pytest.raises(KeyboardInterrupt):
                side.result()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


@pytest.mark.filterwarnings("ignore:.*fork:DeprecationWarning")
def test_a_failure_in_the_child_keeps_its_traceback(forking: None) -> None:
    def broken() -> None:
        {}["missing"]  # the bug

    with Beside(broken, "models and migrations") as side, pytest.raises(KeyError) as caught:
        side.result()
    notes = "\n".join(getattr(caught.value, "__notes__", []))
    assert "[models and migrations process]" in notes and "in broken" in notes


def test_without_fork_the_work_runs_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "_can_fork", lambda: False)
    with Beside(_child_pid) as side:
        assert side.result() == os.getpid()


def test_a_process_with_other_threads_is_not_forked() -> None:
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        with Beside(_child_pid) as side:
            assert side.result() == os.getpid()
    finally:
        stop.set()
        thread.join()


class _TwoArguments(Exception):
    def __init__(self, what: str, where: str) -> None:
        super().__init__(f"{what} at {where}")  # args has one item: unpickling needs two


@pytest.mark.filterwarnings("ignore:.*fork:DeprecationWarning")
def test_an_exception_that_does_not_unpickle_arrives_as_its_traceback(forking: None) -> None:
    def fail() -> None:
        raise _TwoArguments("bad field", "forms/a.yaml:3:5")

    with Beside(fail, "kind checks") as side:
        for _ in range(2):  # the same outcome each time it is asked
            with pytest.raises(RuntimeError, match=r"bad field at forms/a\.yaml:3:5") as caught:
                side.result()
            assert "[kind checks process]" in str(caught.value)
        assert side.ready()
