"""The matters' pinyin search keys (generator/pinyin.py): made in a child process for a
province's names, in the generate's own process for a few, the same either way."""

from __future__ import annotations

import sys

import pytest

from generator import pinyin
from generator.pinyin import PinyinKeys, keys

NAMES = ["个体工商户设立登记", "银行开户许可", "行政许可", "失业登记 (2026)", "ABC"]


def test_keys_are_initials_and_whole_pinyin_with_phrases() -> None:
    assert keys("个体工商户设立登记") == ("gtgshsldj", "getigongshanghushelidengji")
    assert keys("银行开户许可")[1].startswith("yinhang")  # a phrase: not yinxing
    assert keys("行政许可")[1].startswith("xingzheng")
    assert keys("ABC") == ("", "")


def test_a_child_process_gives_the_same_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pinyin, "CHILD_FROM", 1)
    with PinyinKeys(NAMES) as found:
        child = found._child
        assert child is not None  # the child path, not this process
        given = child._file
        assert given is not None and given.exists()
        assert found.get() == {n: keys(n) for n in NAMES}
    assert child._file is None and not given.exists()  # its file removed


def test_a_child_that_fails_leaves_the_keys_to_this_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pinyin, "CHILD_FROM", 1)
    monkeypatch.setattr(sys, "executable", "/bin/false")
    with PinyinKeys(NAMES) as found:
        assert found.get() == {n: keys(n) for n in NAMES}
