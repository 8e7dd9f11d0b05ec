"""The YAML loader: locations, YAML 1.2 scalars, duplicate keys, and hostile input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from generator.diagnostics import Diagnostics, Location
from generator.yamlsource import (
    MAX_DEPTH,
    Document,
    child,
    descend,
    load_file,
    location,
    plain_scalar,
)


def load(
    tmp_path: Path, text: str | bytes, name: str = "doc.yaml"
) -> tuple[list[Document], list[str]]:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    diagnostics = Diagnostics()
    documents = load_file(path, name, diagnostics)
    return documents, [str(d) for d in diagnostics]


def data_of(tmp_path: Path, text: str) -> dict[str, object]:
    documents, problems = load(tmp_path, text)
    assert problems == []
    assert len(documents) == 1
    return documents[0].data


def test_locations_are_one_based_and_kept_on_every_node(tmp_path: Path) -> None:
    documents, _ = load(
        tmp_path, "kind: Form\nid: f\nsections:\n  - id: s\n    fields: [{element: e}]\n"
    )
    node = documents[0].node
    assert location(node) == Location("doc.yaml", 1, 1)
    assert location(child(node, "id")) == Location("doc.yaml", 2, 5)
    assert location(descend(node, ["sections", 0, "id"])) == Location("doc.yaml", 4, 9)
    assert location(descend(node, ["sections", 0, "fields", 0, "element"])) == Location(
        "doc.yaml", 5, 24
    )
    # unknown steps are skipped: the deepest node that exists
    assert location(descend(node, ["sections", 7, "x"])) == Location("doc.yaml", 4, 3)


def test_duplicate_keys_are_errors_naming_both(tmp_path: Path) -> None:
    documents, problems = load(tmp_path, "kind: X\nid: a\nname: one\nname: two\n")
    assert problems == [
        "doc.yaml:4:1: error: 重复的键 'name'（首次出现于 doc.yaml:3:1）；"
        "YAML 会悄悄只保留最后一个 / "
        "duplicate key 'name' (first at doc.yaml:3:1); "
        "YAML would silently keep only the last one"
    ]
    assert documents[0].data["name"] == "one"


def test_duplicate_keys_quoted_and_plain_and_nested(tmp_path: Path) -> None:
    _, problems = load(tmp_path, 'kind: X\nid: a\nm: {"a": 1, a: 2}\n')
    assert problems == [
        "doc.yaml:3:13: error: 重复的键 'a'（首次出现于 doc.yaml:3:5）；"
        "YAML 会悄悄只保留最后一个 / "
        "duplicate key 'a' (first at doc.yaml:3:5); "
        "YAML would silently keep only the last one"
    ]


@pytest.mark.parametrize(
    "text",
    ["yes", "no", "on", "off", "y", "n", "Yes", "NO", "On", "OFF"],
)
def test_yaml11_booleans_stay_strings(tmp_path: Path, text: str) -> None:
    assert data_of(tmp_path, f"kind: X\nv: {text}\n")["v"] == text


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("False", False),
        ("010", 10),  # a number for YAML 1.2 core; the node keeps '010' for "quote it"
        ("0o17", 15),
        ("0x1F", 31),
        ("-3", -3),
        ("1.0", 1.0),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("~", None),
        ("null", None),
        ("", None),
        ("1_000", "1_000"),  # YAML 1.1 digit separators are text in 1.2
        ("0b101", "0b101"),
        ("12:30", "12:30"),  # YAML 1.1 sexagesimal numbers are text in 1.2
        ("2026-01-01", "2026-01-01"),  # dates stay text
        ("2026-01-01T08:00:00Z", "2026-01-01T08:00:00Z"),
        ("0755-88888888", "0755-88888888"),
    ],
)
def test_plain_scalars_follow_yaml_12_core(tmp_path: Path, text: str, value: object) -> None:
    assert data_of(tmp_path, f"kind: X\nv: {text}\n")["v"] == value


def test_010_keeps_its_source_text(tmp_path: Path) -> None:
    documents, _ = load(tmp_path, "kind: X\ncode: 010\nquoted: '010'\n")
    node = child(documents[0].node, "code")
    assert node.value == "010"
    assert plain_scalar(node) == 10
    assert documents[0].data["quoted"] == "010"


def test_quoted_scalars_are_always_text(tmp_path: Path) -> None:
    data = data_of(tmp_path, "kind: X\na: 'yes'\nb: \"1.0\"\nc: 'null'\nd: \"\"\n")
    assert data == {"kind": "X", "a": "yes", "b": "1.0", "c": "null", "d": ""}


def test_dates_stay_text(tmp_path: Path) -> None:
    data = data_of(tmp_path, "kind: Calendar\nholidays: [2026-01-01, 2026-02-16]\n")
    assert data["holidays"] == ["2026-01-01", "2026-02-16"]


def test_several_documents_in_one_file(tmp_path: Path) -> None:
    documents, problems = load(tmp_path, "kind: A\nid: a\n---\nkind: B\nid: b\n---\n")
    assert problems == []
    assert [(d.kind, d.id) for d in documents] == [("A", "a"), ("B", "b")]
    assert location(documents[1].node) == Location("doc.yaml", 4, 1)


def test_billion_laughs_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
        previous = name
    lines.append("kind: X")
    started = time.perf_counter()
    documents, problems = load(tmp_path, "\n".join(lines) + "\n")
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0
    assert documents == []
    assert len(problems) == 1
    assert ": error: 文档过大（别名展开后至多 200000 个节点" in problems[0]
    assert " / document is too large (at most 200000 nodes after alias expansion" in problems[0]


def test_small_aliases_are_fine(tmp_path: Path) -> None:
    data = data_of(tmp_path, "kind: X\na: &x [1, 2]\nb: *x\n")
    assert data["b"] == [1, 2]


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    depth = MAX_DEPTH + 5
    documents, problems = load(tmp_path, "kind: X\nv: " + "[" * depth + "]" * depth + "\n")
    assert documents == []
    assert problems == [
        f"doc.yaml:2:{4 + MAX_DEPTH}: error: 文档嵌套过深（别名展开后至多 200000 个节点、"
        f"{MAX_DEPTH} 层），请拆分为多个文档 / document is nested too deeply (at most 200000 "
        f"nodes after alias expansion and {MAX_DEPTH} levels); split it into several documents"
    ]


def test_very_deep_nesting_is_refused_without_recursion_error(tmp_path: Path) -> None:
    started = time.perf_counter()
    documents, problems = load(tmp_path, "v: " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert time.perf_counter() - started < 2.0
    assert documents == []
    assert len(problems) == 1
    assert " / YAML syntax error:" in problems[0] or "nested too deeply" in problems[0]


def test_nesting_up_to_the_limit_is_fine(tmp_path: Path) -> None:
    depth = MAX_DEPTH - 1
    data = data_of(tmp_path, "kind: X\nv: " + "[" * depth + "]" * depth + "\n")
    assert isinstance(data["v"], list)


def test_non_utf8_file(tmp_path: Path) -> None:
    documents, problems = load(tmp_path, b"kind: X\nid: a\nname: caf\xe9\n")
    assert documents == []
    assert problems == ["doc.yaml:3:1: error: 文件不是 UTF-8 文本 / file is not UTF-8 text"]


def test_gbk_file_is_not_utf8(tmp_path: Path) -> None:
    documents, problems = load(tmp_path, "kind: X\nname: 姓名\n".encode("gbk"))
    assert documents == []
    assert problems == ["doc.yaml:2:1: error: 文件不是 UTF-8 文本 / file is not UTF-8 text"]


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    documents, problems = load(tmp_path, "\ufeffkind: X\nid: a\n")
    assert problems == []
    assert documents[0].data == {"kind": "X", "id": "a"}


@pytest.mark.parametrize(
    "text",
    ["- kind: X\n- id: a\n", "just text\n", "42\n"],
    ids=["list", "text", "number"],
)
def test_document_that_is_not_a_mapping(tmp_path: Path, text: str) -> None:
    documents, problems = load(tmp_path, text)
    assert documents == []
    assert problems == [
        "doc.yaml:1:1: error: 文档必须是含有 'kind:' 和 'id:' 的映射 / "
        "a document must be a mapping with 'kind:' and 'id:'"
    ]


def test_empty_file_and_empty_documents(tmp_path: Path) -> None:
    assert load(tmp_path, "") == ([], [])
    assert load(tmp_path, "# only a comment\n---\n---\n") == ([], [])


YAML_ERRORS = {  # test id: (document, the one problem reported)
    "syntax_error_points_at_the_problem": (
        "kind: X\nweekend: [sat, sun\nholidays: []\n",
        "doc.yaml:3:9: error: YAML 语法错误：找不到应有的 ',' 或 ']' / "
        "YAML syntax error: did not find expected ',' or ']' "
        "(while parsing a flow sequence started at 2:10)",
    ),
    "bad_indentation": (
        "kind: X\nid: a\n  name: b\n",
        "doc.yaml:3:7: error: YAML 语法错误：此处不允许映射的值 / "
        "YAML syntax error: mapping values are not allowed in this context",
    ),
    "undefined_alias": (
        "kind: X\na: *nothing\n",
        "doc.yaml:2:4: error: YAML 语法错误：出现了未定义的别名 / "
        "YAML syntax error: found undefined alias",
    ),
    "control_character_is_located_on_one_line": (
        "kind: X\nname: 中文\x07\n",
        "doc.yaml:2:9: error: YAML 错误：不允许的字符（#x0007） / "
        "YAML error: control characters are not allowed (character #x0007)",
    ),
}


@pytest.mark.parametrize(("text", "problem"), YAML_ERRORS.values(), ids=YAML_ERRORS)
def test_yaml_error_is_reported_once_at_its_place(tmp_path: Path, text: str, problem: str) -> None:
    _, problems = load(tmp_path, text)
    assert problems == [problem]


def test_non_text_keys_and_merge_keys(tmp_path: Path) -> None:
    documents, problems = load(tmp_path, "kind: X\n? [a, b]\n: 1\n<<: {c: 1}\nok: 2\n")
    assert problems == [
        "doc.yaml:2:3: error: 映射的键必须是普通文本 / a mapping key must be a plain text",
        "doc.yaml:4:1: error: 不支持合并键（'<<'），请逐一写出各个键 / "
        "merge keys ('<<') are not supported; write the keys out",
    ]
    assert documents[0].data == {"kind": "X", "ok": 2}


def test_errors_of_one_document_do_not_hide_the_next(tmp_path: Path) -> None:
    documents, problems = load(tmp_path, "kind: A\nx: 1\nx: 2\n---\nkind: B\n")
    assert [d.kind for d in documents] == ["A", "B"]
    assert len(problems) == 1


def test_unreadable_path(tmp_path: Path) -> None:
    diagnostics = Diagnostics()
    assert load_file(tmp_path / "missing.yaml", "missing.yaml", diagnostics) == []
    assert [str(d) for d in diagnostics] == [
        "missing.yaml:1:1: error: 无法读取文件 / cannot read file: No such file or directory"
    ]
