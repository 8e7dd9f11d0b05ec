"""``govstd validate`` against mutated copies of the bundled standards tree.

Hypothesis starts from a subset of ``standards/`` (every code set, data element and
calendar, both workflows, two matters with their forms, two regions) and applies one to
four random edits: a YAML node deleted, replaced by one of another type, copied from
elsewhere or wrapped; a line re-indented, duplicated, swapped, deleted or cut; random
bytes inserted (NUL, invalid UTF-8, control characters); a whole file replaced by
something hostile (empty, ``---``, not a mapping, 10,000 levels of ``[``, 20 MB, an
alias bomb, random bytes) or added as a new file.

The property, whatever the edits: no traceback, exit code 0 or 1 (1 exactly when an
error is printed), nothing on stdout, and every line on stderr is either a diagnostic
``<path inside the tree>:<line>:<col>: (error|warning): <message>`` or the final count.
Where the tree is certainly broken — every pinned case, and any tree with a file that is
not UTF-8, holds a character YAML forbids or is a hostile whole file — the exit code
must be 1: a validator that shrugs off a broken tree fails.

The run is derandomized (the same cases every time, for CI) and the nastiest cases are
pinned with ``@example``; a few go through the real ``govstd`` entry point in a
subprocess, where a traceback printed by the interpreter would show.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from generator.cli import app
from tests.helpers import STANDARDS, govstd, replace_once

SUBSET = [
    "national/codesets/*",
    "national/elements/*.yaml",
    "national/calendars/*.yaml",
    "national/workflows/*.yaml",
    "national/forms/ibr_form.yaml",
    "national/forms/resident_pension_enrollment_form.yaml",
    "national/matters/ibr.yaml",
    "national/matters/resident_pension_enrollment.yaml",
    "regions/guangdong.yaml",
    "regions/zhejiang.yaml",
]
FILES = sorted(
    p.relative_to(STANDARDS).as_posix() for pattern in SUBSET for p in STANDARDS.glob(pattern)
)
YAML_FILES = [f for f in FILES if f.endswith(".yaml")]

SUMMARY = re.compile(r"\d+ 个错误，\d+ 个警告 / \d+ error\(s\), \d+ warning\(s\)\Z")
DIAGNOSTIC = re.compile(r"(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning): .+\Z")
BOMB_SECONDS = 2.0
EXAMPLES = 60


# ---------------------------------------------------------------- hostile whole files


def _alias_bomb() -> bytes:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    return ("kind: CodeSet\nid: lol\nname: lol\n" + "\n".join(lines) + "\n").encode()


def _alias_bomb_of_mappings() -> bytes:
    lines = ["a: &a {x: lol, y: lol, z: lol}"]
    for previous, name in zip("abcdefghijklmn", "bcdefghijklmno", strict=True):
        lines.append(f"{name}: &{name} {{x: *{previous}, y: *{previous}, z: *{previous}}}")
    return ("kind: Form\nid: lol\n" + "\n".join(lines) + "\n").encode()


def _huge() -> bytes:
    line = b'  - {code: "0", name: {zh: \xe6\x9c\xaa\xe7\x9f\xa5, en: Unknown}}\n'
    return b"kind: CodeSet\nid: huge\nname: huge\nvalues:\n" + line * (20 * 2**20 // len(line))


WHOLE: dict[str, Callable[[], bytes]] = {
    "empty": lambda: b"",
    "dashes": lambda: b"---\n",
    "dashes_only": lambda: b"---",
    "end_marker": lambda: b"--- \n...\n---\n...\n",
    "comment": lambda: b"# nothing here\n",
    "bom": lambda: b"\xef\xbb\xbf",
    "list": lambda: b"- kind: Form\n- id: x\n",
    "scalar": lambda: b"just some text\n",
    "number": lambda: b"42\n",
    "null": lambda: b"~\n",
    "deep_flow": lambda: b"kind: Form\nid: deep\nx: " + b"[" * 10_000 + b"]" * 10_000 + b"\n",
    "deep_flow_unclosed": lambda: b"[" * 10_000 + b"\n",
    "deep_map": lambda: b"kind: Form\nid: deep\nx: " + b"{a: " * 10_000 + b"1" + b"}" * 10_000,
    "deep_block": lambda: b"".join(b" " * i + b"- \n" for i in range(0, 2_000, 2)),
    "huge": _huge,
    "alias_bomb": _alias_bomb,
    "alias_bomb_maps": _alias_bomb_of_mappings,
    "undefined_alias": lambda: b"kind: Form\nid: x\nname: *nothing\n",
    "python_tag": lambda: b"kind: !!python/object:os.system x\nid: x\n",
    "custom_tag": lambda: b"kind: !Form x\nid: !!binary aGVsbG8=\nname: !!set {a, b}\n",
    "merge_key": lambda: b"base: &b {kind: Form}\n<<: *b\nid: x\n",
    "complex_key": lambda: b"? [kind, id]\n: Form\n",
    "nul": lambda: b"kind: Form\x00\nid: x\n",
    "invalid_utf8": lambda: b"kind: Form\nid: x\nname: \xc3\x28\xff\xfe\n",
    "surrogate": lambda: b"kind: Form\nid: x\nname: \xed\xa0\x80\n",
    "utf16": lambda: "kind: Form\nid: x\n".encode("utf-16"),
    "gbk": lambda: "kind: Form\nid: x\nname: 表单\n".encode("gbk"),
    "control": lambda: b"kind: Form\nid: x\nname: a\x1b[31mred\x07\n",
    "cr_only": lambda: b"kind: Form\rid: x\rname: \x07\r",
    "tabs": lambda: b"kind: Form\nid: x\nsections:\n\t- id: a\n",
    "big_int": lambda: b"kind: CodeSet\nid: big\nname: big\nvalues: " + b"9" * 5_000 + b"\n",
    "big_float": lambda: b"kind: Matter\nid: big\nvisits: 1e99999\nfee: -.inf\n",
    "long_line": lambda: b"kind: Form\nid: " + b"x" * 1_000_000 + b"\n",
    "many_docs": lambda: b"kind: Calendar\nid: c\n---\n" * 2_000,
    "unknown_kind": lambda: b"kind: Formular\nid: x\nname: x\n",
    "no_kind": lambda: b"id: x\nname: x\n",
    "kind_list": lambda: b"kind: [Form]\nid: x\n",
    "kind_map": lambda: b"kind: {Form: 1}\nid: {x: 1}\nname: [x]\n",
    "id_int": lambda: b"kind: Workflow\nid: 7\nname: 7\n",
}

NASTY_TEXT = [
    "",
    " ",
    "010",
    "0x1F",
    "no",
    "null",
    "1e999",
    "-1",
    "NaN",
    "2026-02-30",
    "99999999999999999999999999",
    "x" * 500,
    "表" * 300,
    "../../../../../etc/passwd",
    "/etc/passwd",
    "/dev/zero",
    "codesets",
    "a\x00b",
    "line\nbreak",
    "tab\there",
    "\x1b[31m",
    "\u202e",
    "\ud7ff\ufffd",
    "size(",
    "x == 1 &&",
    "1 / 0 == 1",
    "'",
    '"',
    "{{ 7 * 7 }}",
    "Form",
    "Matter",
    "Region",
    "CodeSet",
    "DataElement",
    "Workflow",
    "Calendar",
    "Bundle",
    "Policy",
    "ibr",
    "ibr_form",
    "licensing",
    "public_service",
    "guangdong",
    "zhejiang",
    "cn_2026",
    "sex",
    "person_name",
    "citizen_id_number",
    "submitted",
    "accepted",
    "all",
    "working_day",
    "required",
]

NODE_ACTIONS = [
    "delete",
    "str",
    "int",
    "big_int",
    "float",
    "null",
    "bool",
    "list",
    "map",
    "empty_list",
    "empty_map",
    "copy",
    "wrap_list",
    "wrap_map",
    "dup_key",
    "alias",
]
TEXT_ACTIONS = ["indent", "dedent", "duplicate", "swap", "delete", "insert", "truncate", "tab"]
SPECIAL_BYTES = [
    b"\x00",
    b"\xff",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    b"\xef\xbb\xbf",
    b"\x1b",
    b"\x07",
    b"\r",
    b"\t",
    b"\xc2\x85",
    "\u2028".encode(),
    b"\n---\n",
    b"&a ",
    b"*a",
    b"!!",
    b"%YAML 1.1\n",
    b"{",
    b"]",
    b": ",
    b"- ",
    b"#",
    b"'",
    b'"',
    b"|",
]

file_index = st.integers(0, 10_000)
node_edit = st.tuples(
    st.just("node"),
    file_index,
    st.integers(0, 10_000),
    st.sampled_from(NODE_ACTIONS),
    st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=20)),
)
text_edit = st.tuples(
    st.just("text"),
    file_index,
    st.sampled_from(TEXT_ACTIONS),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.one_of(st.sampled_from(SPECIAL_BYTES), st.binary(min_size=1, max_size=8)),
)
file_edit = st.tuples(st.just("file"), file_index, st.sampled_from(sorted(WHOLE)), st.booleans())
copy_edit = st.tuples(st.just("copy"), file_index, file_index)
edits_strategy = st.lists(
    st.one_of(node_edit, node_edit, text_edit, text_edit, file_edit, copy_edit),
    min_size=1,
    max_size=4,
)

Edit = tuple[Any, ...]
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


# ---------------------------------------------------------------- applying edits


def _slots(node: yaml.Node) -> list[tuple[yaml.Node, int, bool]]:
    """Every place a node sits: (parent, index, is the key of a mapping pair)."""
    found: list[tuple[yaml.Node, int, bool]] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.SequenceNode):
            for i, item in enumerate(current.value):
                found.append((current, i, False))
                stack.append(item)
        elif isinstance(current, yaml.MappingNode):
            for i, (key, value) in enumerate(current.value):
                found.append((current, i, True))
                found.append((current, i, False))
                stack.extend([key, value])
    return found


def _get(parent: yaml.Node, index: int, is_key: bool) -> yaml.Node:
    item = parent.value[index]
    return item if isinstance(parent, yaml.SequenceNode) else item[0 if is_key else 1]


def _set(parent: yaml.Node, index: int, is_key: bool, node: yaml.Node) -> None:
    if isinstance(parent, yaml.SequenceNode):
        parent.value[index] = node
    else:
        key, value = parent.value[index]
        parent.value[index] = (node, value) if is_key else (key, node)


def _scalar(tag: str, value: str) -> yaml.ScalarNode:
    return yaml.ScalarNode(f"tag:yaml.org,2002:{tag}", value)


def _node_edit(text: bytes, number: int, action: str, payload: str) -> bytes:
    try:
        documents = list(yaml.compose_all(text.decode("utf-8"), Loader=LOADER))
    except (yaml.YAMLError, UnicodeDecodeError, ValueError, RecursionError):
        return text  # an earlier edit broke the file: nothing to walk
    documents = [d for d in documents if d is not None]
    slots = [s for d in documents for s in _slots(d)]
    if not slots:
        return text
    parent, index, is_key = slots[number % len(slots)]
    old = _get(parent, index, is_key)
    other = _get(*slots[(number * 7 + 3) % len(slots)])
    replacement: yaml.Node | None
    if action == "delete":
        del parent.value[index]
        replacement = None
    elif action == "dup_key" and isinstance(parent, yaml.MappingNode):
        parent.value.insert(index, parent.value[index])
        replacement = None
    else:
        replacement = {
            "str": lambda: _scalar("str", payload),
            "int": lambda: _scalar("int", str(len(payload) * 37 - 100)),
            "big_int": lambda: _scalar("int", "9" * 5_000),
            "float": lambda: _scalar("float", "1e999" if len(payload) % 2 else "-0.5"),
            "null": lambda: _scalar("null", "null"),
            "bool": lambda: _scalar("bool", "true" if len(payload) % 2 else "false"),
            "list": lambda: yaml.SequenceNode(
                "tag:yaml.org,2002:seq", [_scalar("str", payload), old]
            ),
            "map": lambda: yaml.MappingNode(
                "tag:yaml.org,2002:map", [(_scalar("str", payload or "k"), old)]
            ),
            "empty_list": lambda: yaml.SequenceNode("tag:yaml.org,2002:seq", []),
            "empty_map": lambda: yaml.MappingNode("tag:yaml.org,2002:map", []),
            "copy": lambda: other,
            "wrap_list": lambda: yaml.SequenceNode("tag:yaml.org,2002:seq", [old]),
            "wrap_map": lambda: yaml.MappingNode(
                "tag:yaml.org,2002:map", [(_scalar("str", "value"), old)]
            ),
            "alias": lambda: other,  # the serializer writes a shared node as an alias
            "dup_key": lambda: old,
        }[action]()
        _set(parent, index, is_key, replacement)
    try:
        out = yaml.serialize_all(documents, Dumper=DUMPER, allow_unicode=True, width=120)
    except (yaml.YAMLError, RecursionError):
        return text
    return out.encode("utf-8", errors="surrogatepass")


def _text_edit(text: bytes, action: str, a: int, b: int, payload: bytes) -> bytes:
    lines = text.splitlines(keepends=True)
    if not lines:
        return payload if action == "insert" else text
    i, j = a % len(lines), b % len(lines)
    if action == "indent":
        lines[i] = b" " * (1 + b % 5) + lines[i]
    elif action == "dedent":
        lines[i] = lines[i].lstrip(b" ")
    elif action == "tab":
        lines[i] = b"\t" + lines[i]
    elif action == "duplicate":
        lines.insert(i, lines[i])
    elif action == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    elif action == "delete":
        del lines[i]
    elif action == "insert":
        at = a % (len(text) + 1)
        return text[:at] + payload + text[at:]
    elif action == "truncate":
        return text[: a % (len(text) + 1)]
    return b"".join(lines)


def apply_edits(root: Path, edits: list[Edit]) -> None:
    for edit in edits:
        files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.yaml"))
        if not files:
            files = ["national/new.yaml"]
        target = root / (edit[1] if isinstance(edit[1], str) else files[edit[1] % len(files)])
        if edit[0] == "node":
            _, _, number, action, payload = edit
            target.write_bytes(_node_edit(target.read_bytes(), number, action, payload))
        elif edit[0] == "text":
            _, _, action, a, b, payload = edit
            target.write_bytes(_text_edit(target.read_bytes(), action, a, b, payload))
        elif edit[0] == "file":
            _, _, which, add = edit
            if add:
                target = root / "national" / f"zz_{which}.yaml"
            target.write_bytes(WHOLE[which]())
        elif edit[0] == "replace":  # pinned cases: one exact text replacement
            replace_once(target, edit[2], edit[3])
        elif edit[0] == "copy":  # the same documents twice: duplicate ids
            source = root / files[edit[2] % len(files)]
            shutil.copyfile(source, target.with_name(f"copy_of_{source.name}"))
        else:  # pragma: no cover
            raise AssertionError(edit)


def make_tree(parent: Path, edits: list[Edit]) -> Path:
    root = parent / "tree"
    for rel in FILES:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(STANDARDS / rel, root / rel)
    apply_edits(root, edits)
    return root


# ---------------------------------------------------------------- the property


def check_output(root: Path, code: int, stdout: str, stderr: str) -> None:
    """Exit 0 or 1, no traceback, and every line a located diagnostic or the count."""
    assert "Traceback" not in stderr + stdout, stderr[-3000:]
    assert code in (0, 1), (code, stderr[-3000:])
    assert stdout == ""
    assert all(c == "\n" or c.isprintable() for c in stderr), "control characters printed"
    lines = stderr.splitlines()
    assert lines, "nothing printed"
    assert SUMMARY.match(lines[-1]), lines[-1]
    errors = 0
    for line in lines[:-1]:
        match = DIAGNOSTIC.match(line)
        assert match, f"not a diagnostic line: {line[:300]!r}"
        path, row, col = match["path"], int(match["line"]), int(match["col"])
        errors += match["sev"] == "error"
        relative = os.path.relpath(os.path.normpath(path), root)
        assert not relative.startswith(".."), f"{path} is outside the tree {root}: {line[:300]}"
        if relative == ".":
            assert row >= 0 and col >= 0, line
        else:
            assert (root / relative).is_file(), f"{path} is not a file of the tree: {line[:300]}"
            assert row >= 1 and col >= 1, line
    assert code == (1 if errors else 0), (code, errors)
    assert lines[-1].startswith(f"{errors} 个错误，"), lines[-1]
    assert f" / {errors} error(s)," in lines[-1], lines[-1]


# What a YAML stream may not hold anywhere, comments included (YAML 1.1 "printable").
NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
# Whole files that hold nothing (harmless when added; when they replace a file, what
# breaks depends on what referred to it).
BLANK = {"empty", "dashes", "dashes_only", "end_marker", "comment", "bom", "null"}


def why_broken(root: Path) -> str | None:
    """A reason the tree cannot validate, judged from the files alone, or ``None`` when
    that needs the validator: a file that is not UTF-8, holds a character YAML forbids,
    or is one of the hostile whole files."""
    hostile = {WHOLE[name](): name for name in WHOLE if name not in BLANK}
    for path in sorted(root.rglob("*.yaml")):
        data = path.read_bytes()
        where = path.relative_to(root).as_posix()
        if data in hostile:
            return f"{where} is the hostile file {hostile[data]!r}"
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return f"{where} is not UTF-8"
        bad = NOT_PRINTABLE.search(text)
        if bad:
            return f"{where} holds {bad.group()!r}, which YAML forbids"
    return None


def validate_in_process(root: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["validate", str(root)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # the traceback of the bug, for the report
    return result.exit_code, result.stdout, result.stderr


def test_the_subset_is_valid(tmp_path: Path) -> None:
    """The starting point validates cleanly, so every error comes from an edit."""
    root = make_tree(tmp_path, [])
    code, out, err = validate_in_process(root)
    check_output(root, code, out, err)
    assert code == 0 and err.strip() == "0 个错误，0 个警告 / 0 error(s), 0 warning(s)", err
    assert len(YAML_FILES) >= 15


ADMIN = "national/codesets/admin_division.yaml"
VALUES_FILES = [
    "/dev/zero",  # never ends: must not be read
    "/etc/passwd",  # outside the tree: must not be read, let alone quoted
    "../../../../../../../../etc/passwd",
    "../../regions",
    ".",
    "''",
    "missing.csv",
    "[gb2260.csv]",
]


def _values_file(value: str) -> Edit:
    return ("replace", ADMIN, "values_file: gb2260.csv", f"values_file: {value}")


N = len(YAML_FILES)
NASTIEST: dict[str, list[Edit]] = {
    "alias-bomb": [("file", 0, "alias_bomb", False)],
    "alias-bomb-of-maps": [("file", 3, "alias_bomb_maps", True)],
    "deep": [("file", 0, "deep_flow", False), ("file", 0, "deep_flow_unclosed", True)],
    "deep-map-and-block": [("file", 0, "deep_map", True), ("file", 0, "deep_block", True)],
    "huge": [("file", 5, "huge", False)],
    "empty-and-dashes": [
        ("file", 0, "empty", False),
        ("file", 1, "dashes", False),
        ("file", 2, "dashes_only", True),
        ("file", 2, "end_marker", True),
        ("file", 2, "bom", True),
    ],
    "not-mappings": [
        ("file", 0, "list", False),
        ("file", 1, "scalar", False),
        ("file", 2, "number", False),
        ("file", 3, "null", False),
    ],
    "bytes": [
        ("file", 0, "nul", True),
        ("file", 0, "invalid_utf8", True),
        ("file", 0, "surrogate", True),
        ("file", 0, "utf16", True),
        ("file", 0, "gbk", True),
        ("file", 0, "control", True),
        ("file", 0, "cr_only", True),
    ],
    "yaml-features": [
        ("file", 0, "tabs", True),
        ("file", 0, "python_tag", True),
        ("file", 0, "custom_tag", True),
        ("file", 0, "merge_key", True),
        ("file", 0, "complex_key", True),
        ("file", 0, "undefined_alias", True),
    ],
    "big-numbers": [("file", 0, "big_int", True), ("file", 0, "big_float", True)]
    + [("node", i, 5, "big_int", "") for i in range(4)],
    "long-line-many-docs": [("file", 0, "long_line", True), ("file", 0, "many_docs", True)],
    "kind-and-id-types": [
        ("file", 0, "kind_list", True),
        ("file", 0, "kind_map", True),
        ("file", 0, "id_int", True),
        ("file", 0, "unknown_kind", True),
        ("file", 0, "no_kind", True),
    ],
    "duplicate-files": [("copy", 0, 0), ("copy", 9, 9), ("copy", 20, 20)],
    # text quoted in messages: a newline, a terminal escape, a record separator (which
    # str.splitlines splits at), a right-to-left override and a lone surrogate
    "control-characters-in-keys": [
        (
            "replace",
            ADMIN,
            "source: ",
            '"a\\nb\\e[2J\\x1e\\u202e\\x85\\t": 1\n"\\0": 2\nsource: ',
        ),
        ("replace", "regions/guangdong.yaml", "\ncode: ", '\n"\\ud800": 1\ncode: '),
        ("node", 1, 2, "str", "\x1e"),
    ],
    # one non-text key node used twice (an alias): one error printed, one counted
    "aliased-key": [
        ("node", 0, 0, "delete", ""),
        ("node", 0, 0, "list", ""),
        ("node", 0, 0, "dup_key", ""),
    ],
    **{f"values-file-{v}": [_values_file(v)] for v in VALUES_FILES},
    "paths-as-values": [("node", i, 11, "str", "/dev/zero") for i in range(N)]
    + [("node", i, 3, "str", "../../../../../etc/passwd") for i in range(N)],
    "nulls": [("node", i, 17, "null", "") for i in range(N)],
    "empty-maps": [("node", i, 2, "empty_map", "") for i in range(N)],
    "copies": [("node", i, 29, "copy", "") for i in range(N)],
    "deletions": [("node", i, 8, "delete", "") for i in range(N)],
    "nul-bytes": [("text", i, "insert", 40 + i, 0, b"\x00") for i in range(N)],
    "bad-utf8": [("text", i, "insert", 77 * i, 0, b"\xff\xfe") for i in range(N)],
}
PINNED = list(NASTIEST.values())


class Counter:
    ran = 0
    broken = 0


def _validate_mutated_tree(edits: list[Edit]) -> None:
    Counter.ran += 1
    parent = Path(tempfile.mkdtemp(prefix="govstd_fuzz_"))
    try:
        root = make_tree(parent, edits)
        started = time.perf_counter()
        code, out, err = validate_in_process(root)
        elapsed = time.perf_counter() - started
        check_output(root, code, out, err)
        assert elapsed < 10, f"validate took {elapsed:.1f} s for {edits!r}"
        broken = why_broken(root)
        if broken or edits in PINNED:  # every pinned case breaks the tree
            Counter.broken += 1
            assert code == 1, f"exit {code} for a broken tree ({broken or 'pinned'}): {edits!r}"
    finally:
        shutil.rmtree(parent, ignore_errors=True)


_pinned_test = _validate_mutated_tree
for _case in PINNED:
    _pinned_test = example(edits=_case)(_pinned_test)
mutated_tree_validates_cleanly = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)(given(edits=edits_strategy)(_pinned_test))


def test_mutated_trees(capsys: pytest.CaptureFixture[str]) -> None:
    Counter.ran = Counter.broken = 0
    mutated_tree_validates_cleanly()
    with capsys.disabled():
        print(
            f"\n[standards fuzz] {Counter.ran} mutated trees validated "
            f"({len(PINNED)} pinned, {EXAMPLES} generated at most); "
            f"{Counter.broken} known to be broken, each exit 1"
        )
    assert Counter.ran >= len(PINNED) + EXAMPLES // 2
    assert Counter.broken >= len(PINNED)


# ---------------------------------------------------------------- single nasty cases


@pytest.mark.parametrize("which", ["alias_bomb", "alias_bomb_maps"])
def test_alias_bomb_is_refused_quickly_with_a_location(tmp_path: Path, which: str) -> None:
    root = make_tree(tmp_path, [("file", 0, which, True)])
    started = time.perf_counter()
    code, out, err = validate_in_process(root)
    elapsed = time.perf_counter() - started
    assert elapsed < BOMB_SECONDS, f"{elapsed:.2f} s"
    check_output(root, code, out, err)
    assert code == 1
    [line] = [x for x in err.splitlines() if "too large" in x]
    assert line.startswith(f"{root}/national/zz_{which}.yaml:")


SUBPROCESS = [
    "alias-bomb",
    "deep",
    "huge",
    "bytes",
    "big-numbers",
    "kind-and-id-types",
    "values-file-/dev/zero",
    "values-file-/etc/passwd",
]


@pytest.mark.parametrize("name", SUBPROCESS)
def test_entry_point_in_a_subprocess(tmp_path: Path, name: str) -> None:
    root = make_tree(tmp_path, NASTIEST[name])
    done = govstd("validate", str(root))
    check_output(root, done.returncode, done.stdout, done.stderr)
    assert done.returncode == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("/etc/passwd", "is not a file inside the standards tree"),
        ("../../../../../../../../etc/passwd", "is not a file inside the standards tree"),
        ("../../../outside.csv", "is not a file inside the standards tree"),
        ("/dev/zero", "is not a file inside the standards tree"),
        (".", "not a regular file"),
        ("zero.csv", "not a regular file"),  # a link inside the tree to /dev/zero
        ("missing.csv", "No such file or directory"),
    ],
)
def test_values_file_is_read_only_inside_the_tree(tmp_path: Path, value: str, message: str) -> None:
    """A values_file outside the tree is never read (nor quoted in an error), nor is a
    device or a folder inside it."""
    (tmp_path / "outside.csv").write_text("code,zh,en,parent\nsecret,机密,,\n", encoding="utf-8")
    root = make_tree(tmp_path, [_values_file(value)])
    (root / "national" / "codesets" / "zero.csv").symlink_to("/dev/zero")
    started = time.perf_counter()
    code, out, err = validate_in_process(root)
    assert time.perf_counter() - started < 10
    check_output(root, code, out, err)
    assert code == 1
    assert f"{root}/{ADMIN}:7:14: error: " in err
    assert message in err
    assert "root:" not in err and "secret" not in err
