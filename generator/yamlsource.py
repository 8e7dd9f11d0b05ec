"""YAML loading that keeps ``file:line:col`` of every node.

PyYAML composes each file into a node graph (the C composer where present);
this module then checks what YAML 1.1 would get wrong and turns nodes into plain
Python data with YAML 1.2 core scalar rules:

* duplicate keys in a mapping are errors, never "last one wins";
* ``yes``/``no``/``on``/``off`` stay strings; ``010`` is read as the number 10 but
  its source text is kept on the node, so a string field reports "quote it";
* dates stay strings (pydantic parses them where a date is expected);
* alias expansion is bounded, so a "billion laughs" document is refused.
"""

from __future__ import annotations

import functools
import io
import operator
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from generator.diagnostics import Diagnostics, Location
from runtime.types import bilingual

_TAGS = {
    yaml.ScalarNode: "tag:yaml.org,2002:str",
    yaml.SequenceNode: "tag:yaml.org,2002:seq",
    yaml.MappingNode: "tag:yaml.org,2002:map",
}

try:

    class _FastLoader(yaml.CSafeLoader):
        """libyaml's composer without YAML 1.1 tag resolution (scalars are typed here)."""

        def __init__(self, stream: io.StringIO) -> None:
            super().__init__(stream)
            # libyaml's composer calls these two Python methods around every node, for the
            # path resolvers of PyYAML's BaseResolver, which return at once when none is
            # registered (none is: no loader here adds one). Two C callables that return
            # at once too: a third of the time of composing a province's 20,000 files.
            self.descend_resolver = operator.is_  # type: ignore[method-assign,assignment]
            self.ascend_resolver = int  # type: ignore[method-assign,assignment]

        def resolve(self, kind: type, value: object, implicit: object) -> str:
            return _TAGS[kind]

    _Loader: type = _FastLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_NODES_PER_DOCUMENT = 200_000
MAX_DEPTH = 64
_MAX_NODES = MAX_NODES_PER_DOCUMENT
_SCALAR = yaml.ScalarNode

Node = yaml.Node
Data = object

_INT = re.compile(r"[-+]?[0-9]+\Z")
_INT_OTHER = re.compile(r"0o[0-7]+\Z|0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_INF_NAN = {
    ".inf": float("inf"),
    "+.inf": float("inf"),
    "-.inf": float("-inf"),
    ".nan": float("nan"),
}
_NULL = {"", "~", "null", "Null", "NULL"}
_NUMBER_START = frozenset("0123456789+-.")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}

# The syntax errors of PyYAML and libyaml that people meet most, in Chinese (by prefix).
_PROBLEMS_ZH = {
    "mapping values are not allowed": "此处不允许映射的值",
    "could not find expected ':'": "找不到应有的 ':'",
    "did not find expected key": "找不到应有的键",
    "did not find expected '-' indicator": "找不到应有的 '-' 标记",
    "did not find expected ',' or ']'": "找不到应有的 ',' 或 ']'",
    "did not find expected ',' or '}'": "找不到应有的 ',' 或 '}'",
    "did not find expected node content": "找不到应有的内容",
    "found character that cannot start any token": "出现了不能作为记号开头的字符",
    "found unexpected end of stream": "文件意外结束",
    "found undefined alias": "出现了未定义的别名",
    "found unknown escape character": "出现了未知的转义字符",
    "found a tab character": "缩进中出现了制表符",
    "block sequence entries are not allowed": "此处不允许列表项",
}


def _problem_zh(problem: str) -> str:
    """``YAML 语法错误``, with the Chinese of ``problem`` when it is a known one."""
    found = next((zh for en, zh in _PROBLEMS_ZH.items() if problem.startswith(en)), None)
    return f"YAML 语法错误：{found}" if found else "YAML 语法错误"


def location(node: Node) -> Location:
    mark = node.start_mark
    return Location(str(mark.name), mark.line + 1, mark.column + 1)


def is_plain(node: Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and not node.style


def plain_scalar(node: yaml.ScalarNode) -> Data:
    """The value of a plain scalar under YAML 1.2 core rules."""
    text: str = node.value
    if text in _NULL:
        return None
    if text in _BOOL:
        return _BOOL[text]
    if text[0] not in _NUMBER_START:  # no number, infinity or NaN starts otherwise
        return text
    if _INT.match(text):
        return int(text)
    if _INT_OTHER.match(text):
        return int(text, 0)
    if _FLOAT.match(text):
        return float(text)
    if text.lower() in _INF_NAN:
        return _INF_NAN[text.lower()]
    return text


@dataclass(frozen=True)
class NodeSource:
    """Where a document was read from: its file and its place among the file's documents."""

    path: str
    display: str
    index: int

    def node(self) -> Node | None:
        """The document's root node, the file read again (None if it is gone or changed)."""
        try:
            stat = Path(self.path).stat()
        except OSError:
            return None
        nodes = _reread(self.path, self.display, stat.st_mtime_ns, stat.st_size)
        return nodes[self.index] if self.index < len(nodes) else None


@functools.lru_cache(maxsize=8)
def _reread(path: str, display: str, mtime_ns: int, size: int) -> tuple[Node, ...]:
    return tuple(d.node for d in load_file(Path(path), display, Diagnostics()))


@dataclass
class Document:
    """One YAML document of a file: its root mapping node and its data."""

    file: str
    node: yaml.MappingNode
    data: dict[str, Data]
    source: NodeSource | None = None

    @property
    def kind(self) -> object:
        return self.data.get("kind")

    @property
    def id(self) -> object:
        return self.data.get("id")


class _Converter:
    def __init__(self, diagnostics: Diagnostics) -> None:
        self.diagnostics = diagnostics
        self.count = 0
        self.too_big = False

    def convert(self, node: Node, depth: int = 0) -> Data:
        self.count += 1
        if self.count > MAX_NODES_PER_DOCUMENT or depth > MAX_DEPTH:
            if not self.too_big:
                self.too_big = True
                deep = depth > MAX_DEPTH
                what = "nested too deeply" if deep else "too large"
                self.diagnostics.error(
                    location(node),
                    bilingual(
                        f"文档{'嵌套过深' if deep else '过大'}（别名展开后至多 "
                        f"{MAX_NODES_PER_DOCUMENT} 个节点、{MAX_DEPTH} 层），请拆分为多个文档",
                        f"document is {what} (at most {MAX_NODES_PER_DOCUMENT} nodes after "
                        f"alias expansion and {MAX_DEPTH} levels); split it into several documents",
                    ),
                )
            return None
        if isinstance(node, yaml.ScalarNode):
            return node.value if node.style else self.plain(node)
        # A scalar below is converted here, not by a call of convert, when the limits
        # above cannot be reached by it: most nodes are scalars (converting a province's
        # 20,000 files took 0.65 s, now 0.47 s).
        if isinstance(node, yaml.SequenceNode):
            items: list[Data] = []
            for item in node.value:
                if item.__class__ is _SCALAR and depth < MAX_DEPTH and self.count < _MAX_NODES:
                    self.count += 1
                    items.append(item.value if item.style else self.plain(item))
                else:
                    items.append(self.convert(item, depth + 1))
            return items
        assert isinstance(node, yaml.MappingNode)
        result: dict[str, Data] = {}
        seen: dict[object, Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.diagnostics.error(
                    location(key_node),
                    bilingual("映射的键必须是普通文本", "a mapping key must be a plain text"),
                )
                continue
            key = key_node.value
            if key == "<<":
                self.diagnostics.error(
                    location(key_node),
                    bilingual(
                        "不支持合并键（'<<'），请逐一写出各个键",
                        "merge keys ('<<') are not supported; write the keys out",
                    ),
                )
                continue
            if key in seen:
                first = location(seen[key])
                self.diagnostics.error(
                    location(key_node),
                    bilingual(
                        f"重复的键 '{key}'（首次出现于 {first}）；YAML 会悄悄只保留最后一个",
                        f"duplicate key '{key}' (first at {first}); "
                        "YAML would silently keep only the last one",
                    ),
                )
                continue
            seen[key] = key_node
            if value_node.__class__ is _SCALAR and depth < MAX_DEPTH and self.count < _MAX_NODES:
                self.count += 1
                result[key] = value_node.value if value_node.style else self.plain(value_node)
            else:
                result[key] = self.convert(value_node, depth + 1)
        return result

    def plain(self, node: yaml.ScalarNode) -> Data:
        try:
            return plain_scalar(node)
        except ValueError:  # an integer with more digits than int() converts (4,300)
            self.diagnostics.error(
                location(node),
                bilingual(
                    f"{len(node.value)} 位的数字过长；如果是文本，请加引号",
                    f"number of {len(node.value)} digits is too long; quote it if it is text",
                ),
            )
            return node.value


def to_data(node: Node, diagnostics: Diagnostics) -> Data:
    """Plain data of a node graph (also one merged from several files)."""
    return _Converter(diagnostics).convert(node)


def _compose(text: str, name: str) -> Iterator[Node]:
    stream = io.StringIO(text)
    stream.name = name
    loader = _Loader(stream)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                yield node
    finally:
        loader.dispose()


def load_file(
    path: Path, display: str, diagnostics: Diagnostics, raw: bytes | None = None
) -> list[Document]:
    """Load every document of one file (``raw``: its bytes, when already read); problems
    go to ``diagnostics``."""
    where = Location(display)
    try:
        raw = path.read_bytes() if raw is None else raw
    except OSError as exc:
        diagnostics.error(where, bilingual("无法读取文件", f"cannot read file: {exc.strerror}"))
        return []
    if len(raw) > MAX_FILE_BYTES:
        diagnostics.error(
            where,
            bilingual(
                f"文件有 {len(raw)} 字节，最多读取 {MAX_FILE_BYTES} 字节（请拆分）",
                f"file is {len(raw)} bytes; at most {MAX_FILE_BYTES} are read (split it)",
            ),
        )
        return []
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        diagnostics.error(
            Location(display, line), bilingual("文件不是 UTF-8 文本", "file is not UTF-8 text")
        )
        return []
    documents: list[Document] = []
    try:
        for node in _compose(text, display):
            converter = _Converter(diagnostics)
            data = converter.convert(node)
            if converter.too_big:
                continue
            if data is None:
                continue
            if not isinstance(node, yaml.MappingNode) or not isinstance(data, dict):
                diagnostics.error(
                    location(node),
                    bilingual(
                        "文档必须是含有 'kind:' 和 'id:' 的映射",
                        "a document must be a mapping with 'kind:' and 'id:'",
                    ),
                )
                continue
            source = NodeSource(str(path), display, len(documents))
            documents.append(Document(display, node, data, source))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = Location(display, mark.line + 1, mark.column + 1) if mark else where
        problem = exc.problem or exc.context or "invalid YAML"
        context = exc.context_mark
        if (
            exc.problem
            and exc.context
            and context is not None
            and mark is not None
            and ((context.line, context.column) != (mark.line, mark.column))
        ):
            problem += f" ({exc.context} started at {context.line + 1}:{context.column + 1})"
        zh = _problem_zh(exc.problem or exc.context or "")
        diagnostics.error(at, bilingual(zh, f"YAML syntax error: {problem}"))
    except yaml.reader.ReaderError as exc:  # control characters and the like
        before = text[: exc.position]
        if _Loader is not yaml.SafeLoader:  # libyaml counts bytes of UTF-8
            before = text.encode()[: exc.position].decode(errors="ignore")
        line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        diagnostics.error(
            Location(display, line, column),
            bilingual(
                f"YAML 错误：不允许的字符（#x{char:04x}）",
                f"YAML error: {exc.reason} (character #x{char:04x})",
            ),
        )
    except yaml.YAMLError as exc:
        diagnostics.error(
            where, bilingual("YAML 错误", "YAML error: " + " ".join(str(exc).split()))
        )
    return documents


Marks = tuple[int, int, "dict[str, Marks | None] | list[Marks | None] | None"]
"""Where a node starts (line and column, from 1) and, for a mapping or sequence, its
children's marks (a scalar child's: None), a mapping's first key winning as on load."""


def marks_of(node: Node) -> Marks:
    """The marks of ``node``: what :meth:`Model.attach_marks` needs of the node graph, as
    plain data another process can hand over."""
    mark = node.start_mark
    children: dict[str, Marks | None] | list[Marks | None] | None = None
    if isinstance(node, yaml.MappingNode):
        children = {}
        for key_node, value_node in reversed(node.value):
            if key_node.__class__ is _SCALAR and value_node.__class__ is not _SCALAR:
                children[key_node.value] = marks_of(value_node)
    elif isinstance(node, yaml.SequenceNode):
        children = [None if v.__class__ is _SCALAR else marks_of(v) for v in node.value]
    return (mark.line + 1, mark.column + 1, children)


def child(node: Node, key: object) -> Node | None:
    """The value node under ``key`` (a mapping key or a sequence index)."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                found: Node = value_node
                return found
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int):
        return node.value[key] if 0 <= key < len(node.value) else None
    return None


def key_node(node: Node, key: str) -> Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, _ in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return k
    return None


def descend(node: Node, path: Sequence[object]) -> Node:
    """The deepest node reachable along ``path``; unknown steps are skipped."""
    for step in path:
        found = child(node, step)
        if found is not None:
            node = found
    return node
